import { InputProblems, ValidationError } from '../lib/index.js';
import { MAX_NAME_WAITERS_PER_NAME } from './constants.js';
import { NameTakenError } from './errors.js';
import type { CollisionPolicy, NameLookup } from './spec.js';
import { COLLISION_POLICIES } from './spec-shape.js';

/** Proof of holding a name. Only the current lease may publish under or release the name. */
export interface NameLease {
  readonly name: string;
  readonly holder: string;
  readonly token: number;
}

export interface AcquireOptions {
  /** Called when a `replace` acquisition takes the name away from this holder. */
  readonly onRevoked?: (reason: string) => void;
  /** Abandons a `wait` acquisition. */
  readonly signal?: AbortSignal;
}

interface Entry {
  readonly lease: NameLease;
  value: unknown;
  readonly onRevoked: ((reason: string) => void) | undefined;
}

interface Waiter {
  readonly holder: string;
  readonly options: AcquireOptions;
  readonly grant: (lease: NameLease) => void;
}

/**
 * Names held by live children, one holder per name. A name is released when its holder stops or
 * crashes; a newcomer meets the holder under its collision policy: `fail` is refused, `replace`
 * revokes the holder's lease, `wait` queues (bounded) until the name is released.
 */
export class NameRegistry implements NameLookup {
  private nextToken = 1;
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Map<string, Waiter[]>();

  acquire(
    name: string,
    holder: string,
    policy: CollisionPolicy,
    options: AcquireOptions = {},
  ): Promise<NameLease> {
    const problems = new InputProblems();
    problems.text('name', name);
    problems.text('holder', holder);
    problems.oneOf('policy', policy, COLLISION_POLICIES);
    if (problems.record('options', options)) {
      if (options.onRevoked !== undefined) problems.func('options.onRevoked', options.onRevoked);
      if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
        problems.add('options.signal must be an AbortSignal');
      }
    }
    if (problems.list.length > 0) return Promise.reject(new ValidationError('name lease', problems.list));
    const current = this.entries.get(name);
    if (current === undefined) return Promise.resolve(this.grant(name, holder, options));
    switch (policy) {
      case 'fail':
        return Promise.reject(new NameTakenError(name, current.lease.holder, 'collision policy is fail'));
      case 'replace': {
        this.entries.delete(name);
        current.onRevoked?.(`name '${name}' taken over by '${holder}'`);
        return Promise.resolve(this.grant(name, holder, options));
      }
      case 'wait':
        return this.enqueue(name, holder, options, current.lease.holder);
    }
  }

  /** Releases the name if `lease` still holds it; true when it did. */
  release(lease: NameLease): boolean {
    const current = this.entries.get(lease.name);
    if (current === undefined || current.lease.token !== lease.token) return false;
    this.entries.delete(lease.name);
    const queue = this.waiters.get(lease.name);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.waiters.delete(lease.name);
    if (next !== undefined) next.grant(this.grant(lease.name, next.holder, next.options));
    return true;
  }

  /** Publishes a value under the leased name; ignored when the lease was revoked or released. */
  publish(lease: NameLease, value: unknown): boolean {
    const current = this.entries.get(lease.name);
    if (current === undefined || current.lease.token !== lease.token) return false;
    current.value = value;
    return true;
  }

  isCurrent(lease: NameLease): boolean {
    return this.entries.get(lease.name)?.lease.token === lease.token;
  }

  lookup(name: string): unknown {
    return this.entries.get(name)?.value;
  }

  holderOf(name: string): string | undefined {
    return this.entries.get(name)?.lease.holder;
  }

  heldNames(): string[] {
    return [...this.entries.keys()];
  }

  waiterCount(name: string): number {
    return this.waiters.get(name)?.length ?? 0;
  }

  private grant(name: string, holder: string, options: AcquireOptions): NameLease {
    const lease: NameLease = { name, holder, token: this.nextToken++ };
    this.entries.set(name, { lease, value: undefined, onRevoked: options.onRevoked });
    return lease;
  }

  private enqueue(
    name: string,
    holder: string,
    options: AcquireOptions,
    currentHolder: string,
  ): Promise<NameLease> {
    const queue = this.waiters.get(name) ?? [];
    if (queue.length >= MAX_NAME_WAITERS_PER_NAME) {
      return Promise.reject(
        new NameTakenError(name, currentHolder, `${MAX_NAME_WAITERS_PER_NAME} children already wait for it`),
      );
    }
    if (options.signal?.aborted === true) {
      return Promise.reject(new NameTakenError(name, currentHolder, 'gave up waiting'));
    }
    this.waiters.set(name, queue);
    return new Promise<NameLease>((resolve, reject) => {
      const onAbort = (): void => {
        const waiting = this.waiters.get(name);
        const index = waiting?.indexOf(waiter) ?? -1;
        if (waiting === undefined || index < 0) return;
        waiting.splice(index, 1);
        if (waiting.length === 0) this.waiters.delete(name);
        reject(new NameTakenError(name, this.holderOf(name) ?? currentHolder, 'gave up waiting'));
      };
      const waiter: Waiter = {
        holder,
        options,
        grant: (lease) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }
}
