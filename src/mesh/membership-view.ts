import {
  ControlClosedError,
  ControlCompactedError,
  type ControlEntry,
  type ControlEvent,
  type ControlPlane,
  type ControlWatch,
  KEYSPACE_PREFIXES,
  nodeIdOfKey,
  readRecord,
} from '../control/index.js';
import type { Clock, Logger, NodeId, Random, TimerId } from '../lib/index.js';
import { type NodeRecord, readNodeRecord } from './node-record.js';
import { registrationRetryDelayMs } from './node-registration.js';

/** `alive`: registered, no hint against it. `suspect`: registered, but its connection to us closed. */
export type NodeHealth = 'alive' | 'suspect';

/** A node the view knows to be registered. */
export interface MemberNode {
  readonly record: NodeRecord;
  /** The lease the registration is under (its expiry is the node's departure). */
  readonly leaseId: number;
  readonly health: NodeHealth;
}

export type MembershipChange =
  | { readonly type: 'join'; readonly node: MemberNode }
  | { readonly type: 'update'; readonly node: MemberNode }
  | { readonly type: 'leave'; readonly node: MemberNode }
  | { readonly type: 'suspect'; readonly node: MemberNode }
  | { readonly type: 'trusted'; readonly node: MemberNode };

export interface MembershipViewOptions {
  readonly plane: ControlPlane;
  readonly clock: Clock;
  readonly random: Random;
  /** A suspicion lapses after this long if the node is still registered: its lease was kept. */
  readonly suspicionLapseMs: number;
  readonly logger?: Logger;
}

/** Most nodes listed per page while (re)loading the view. */
const MEMBERSHIP_LIST_PAGE_NODES = 1_000;

interface Tracked {
  node: MemberNode;
  modRevision: number;
  suspicionTimer: TimerId | undefined;
}

/**
 * The mesh's registered nodes as the control plane holds them: a listing of `nodes/` followed by
 * a watch from the listing's revision, so every join (a record put) and leave (its lease expired
 * or was revoked: the record deleted) reaches the listeners once, in revision order. When the
 * watch cannot go on (history compacted, control plane unreachable) the view lists again and
 * reports the difference. A closed peer connection marks a node `suspect`; that is a hint, never
 * a departure: only the record's deletion removes a node.
 */
export class MembershipView {
  private readonly nodesById = new Map<NodeId, Tracked>();
  private readonly listeners: ((change: MembershipChange) => void)[] = [];
  private watch: ControlWatch | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private failedAttempts = 0;
  private retry: { timer: TimerId; resolve: () => void } | undefined;
  /** Records under `nodes/` that did not decode (counted, skipped). */
  badRecords = 0;
  /** Times the view listed the nodes again after its watch broke. */
  relists = 0;

  private loaded = false;
  private readonly loadedWaiters: (() => void)[] = [];

  constructor(private readonly options: MembershipViewOptions) {}

  /**
   * Lists the registered nodes (retrying until the control plane answers: a voter's own cluster
   * may have no leader yet) and follows them, in the background.
   */
  start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.load().then(() => this.follow());
  }

  /** True once the first listing is in. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Resolves once the first listing is in (or the view is closed). */
  whenLoaded(): Promise<void> {
    if (this.loaded || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.loadedWaiters.push(resolve));
  }

  /** Registered nodes, by id. */
  nodes(): MemberNode[] {
    return [...this.nodesById.values()]
      .map((tracked) => tracked.node)
      .sort((a, b) => a.record.id - b.record.id);
  }

  get(id: NodeId): MemberNode | undefined {
    return this.nodesById.get(id)?.node;
  }

  get size(): number {
    return this.nodesById.size;
  }

  /** Calls `listener` on every change; returns an unsubscribe. */
  onChange(listener: (change: MembershipChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /**
   * A hint that `id` may be down (a peer connection to or from it closed). It stays listed; the
   * suspicion lapses when the node reconnects, re-registers, or is still registered after
   * `suspicionLapseMs` (it kept its lease all along).
   */
  suspect(id: NodeId): void {
    const tracked = this.nodesById.get(id);
    if (tracked === undefined || tracked.node.health === 'suspect') return;
    tracked.node = { ...tracked.node, health: 'suspect' };
    tracked.suspicionTimer = this.options.clock.setTimer(this.options.suspicionLapseMs, () => this.trust(id));
    this.emit({ type: 'suspect', node: tracked.node });
  }

  /** Evidence that `id` is up (a peer connection to it was established). */
  trust(id: NodeId): void {
    const tracked = this.nodesById.get(id);
    if (tracked === undefined || tracked.node.health !== 'suspect') return;
    this.clearSuspicion(tracked);
    this.emit({ type: 'trusted', node: tracked.node });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.loadedWaiters.splice(0)) resolve();
    this.watch?.cancel();
    if (this.retry !== undefined) {
      this.options.clock.clearTimer(this.retry.timer);
      this.retry.resolve();
    }
    await this.loop;
    for (const tracked of this.nodesById.values()) {
      if (tracked.suspicionTimer !== undefined) this.options.clock.clearTimer(tracked.suspicionTimer);
    }
  }

  /** Lists `nodes/` until it succeeds, reconciles the view with the listing, then opens the watch. */
  private async load(): Promise<void> {
    while (!this.closed) {
      try {
        const revision = await this.reconcileWithListing();
        this.watch = await this.options.plane.watch(KEYSPACE_PREFIXES.nodes, { fromRevision: revision + 1 });
        if (this.closed) this.watch.cancel();
        this.failedAttempts = 0;
        this.markLoaded();
        return;
      } catch (error) {
        if (error instanceof ControlClosedError) return;
        this.options.logger?.debug({ err: error }, 'listing the mesh nodes failed; retrying');
        await this.pause();
      }
    }
  }

  private markLoaded(): void {
    this.loaded = true;
    for (const resolve of this.loadedWaiters.splice(0)) resolve();
  }

  private async reconcileWithListing(): Promise<number> {
    const listed = new Map<NodeId, ControlEntry>();
    let startAfter: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await this.options.plane.range(KEYSPACE_PREFIXES.nodes, {
        limit: MEMBERSHIP_LIST_PAGE_NODES,
        ...(revision === 0 ? {} : { revision }),
        ...(startAfter === undefined ? {} : { startAfter }),
      });
      revision = page.revision;
      for (const entry of page.entries) {
        const id = nodeIdOfKey(entry.key);
        if (id !== undefined) listed.set(id, entry);
      }
      const last = page.entries.at(-1);
      if (!page.more || last === undefined) break;
      startAfter = last.key;
    }
    for (const [id, tracked] of [...this.nodesById]) {
      if (!listed.has(id)) this.remove(id, tracked);
    }
    for (const entry of listed.values()) this.apply({ type: 'put', entry });
    return revision;
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      const watch = this.watch;
      if (watch === undefined) return;
      try {
        for await (const event of watch) this.apply(event);
        if (this.closed) return;
      } catch (error) {
        if (error instanceof ControlClosedError || this.closed) return;
        this.relists++;
        this.options.logger?.warn(
          { err: error, compacted: error instanceof ControlCompactedError },
          'the membership watch broke; listing the nodes again',
        );
      }
      await this.load();
    }
  }

  private apply(event: ControlEvent): void {
    const key = event.type === 'put' ? event.entry.key : event.key;
    const id = nodeIdOfKey(key);
    if (id === undefined) return;
    const tracked = this.nodesById.get(id);
    if (event.type === 'delete') {
      if (tracked !== undefined) this.remove(id, tracked);
      return;
    }
    if (tracked !== undefined && tracked.modRevision === event.entry.modRevision) return;
    let record: NodeRecord;
    try {
      record = readRecord(key, event.entry.value, readNodeRecord);
      if (record.id !== id) throw new Error(`record of node ${record.id} under the key of node ${id}`);
    } catch (error) {
      this.badRecords++;
      this.options.logger?.warn({ err: error, key }, 'skipping a node record that does not decode');
      return;
    }
    const node: MemberNode = { record, leaseId: event.entry.lease, health: 'alive' };
    if (tracked === undefined) {
      this.nodesById.set(id, { node, modRevision: event.entry.modRevision, suspicionTimer: undefined });
      this.emit({ type: 'join', node });
      return;
    }
    // A new registration (a restart, a new lease) is evidence the node is up.
    this.clearSuspicion(tracked);
    tracked.node = node;
    tracked.modRevision = event.entry.modRevision;
    this.emit({ type: 'update', node });
  }

  private remove(id: NodeId, tracked: Tracked): void {
    if (tracked.suspicionTimer !== undefined) this.options.clock.clearTimer(tracked.suspicionTimer);
    this.nodesById.delete(id);
    this.emit({ type: 'leave', node: tracked.node });
  }

  private clearSuspicion(tracked: Tracked): void {
    if (tracked.suspicionTimer !== undefined) this.options.clock.clearTimer(tracked.suspicionTimer);
    tracked.suspicionTimer = undefined;
    tracked.node = { ...tracked.node, health: 'alive' };
  }

  private emit(change: MembershipChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.options.logger?.error({ err: error }, 'a membership listener threw');
      }
    }
  }

  private pause(): Promise<void> {
    this.failedAttempts++;
    const delayMs = registrationRetryDelayMs(this.failedAttempts, this.options.random);
    return new Promise((resolve) => {
      this.retry = {
        resolve,
        timer: this.options.clock.setTimer(delayMs, () => {
          this.retry = undefined;
          resolve();
        }),
      };
    });
  }
}
