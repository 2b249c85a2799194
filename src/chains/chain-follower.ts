/**
 * Follows every chain definition: a `PrefixFollower` on `chains/` whose entries are decoded into
 * definitions. The owner gets the whole map first and again after every re-list, then each
 * change; a value that is not a definition is reported and left out, never fatal.
 */
import { type ControlEvent, KEYSPACE_PREFIXES, PrefixFollower } from '../control/index.js';
import type { Clock } from '../lib/index.js';
import { type StoredChain, storedChainOf } from './stored-chain.js';

export type ChainChange =
  | { readonly type: 'put'; readonly chain: StoredChain }
  | { readonly type: 'delete'; readonly name: string };

export interface ChainFollowHandlers {
  /** Every definition by name: first, and again after every re-list. */
  readonly onReset: (chains: ReadonlyMap<string, StoredChain>) => void;
  readonly onChange?: (change: ChainChange) => void;
  /** A key under `chains/` whose value is not a definition (left out of the map). */
  readonly onUndecodable?: (key: string, error: Error) => void;
  /** The follower stopped on a failure it cannot get past (CONTROL_CLOSED, ...). */
  readonly onError?: (error: Error) => void;
}

export class ChainFollower {
  private readonly current = new Map<string, StoredChain>();
  private readonly follower: PrefixFollower;

  constructor(
    plane: ConstructorParameters<typeof PrefixFollower>[0],
    private readonly handlers: ChainFollowHandlers,
    options: { readonly clock: Clock },
  ) {
    this.follower = new PrefixFollower(
      plane,
      KEYSPACE_PREFIXES.chains,
      {
        onReset: (entries) => {
          this.current.clear();
          for (const entry of entries.values()) {
            const chain = this.decode(entry.key, () => storedChainOf(entry));
            if (chain !== undefined) this.current.set(chain.definition.name, chain);
          }
          handlers.onReset(this.current);
        },
        onEvent: (event) => this.apply(event),
        ...(handlers.onError === undefined ? {} : { onError: handlers.onError }),
      },
      { clock: options.clock },
    );
  }

  /** The definitions as of the last change delivered, by name. */
  get chains(): ReadonlyMap<string, StoredChain> {
    return this.current;
  }

  /** Resolves when the follower stops. */
  get done(): Promise<void> {
    return this.follower.done;
  }

  stop(): void {
    this.follower.stop();
  }

  private apply(event: ControlEvent): void {
    const key = event.type === 'put' ? event.entry.key : event.key;
    const name = key.slice(KEYSPACE_PREFIXES.chains.length);
    if (event.type === 'delete') {
      if (this.current.delete(name)) this.handlers.onChange?.({ type: 'delete', name });
      return;
    }
    const chain = this.decode(key, () => storedChainOf(event.entry));
    if (chain === undefined) {
      if (this.current.delete(name)) this.handlers.onChange?.({ type: 'delete', name });
      return;
    }
    this.current.set(name, chain);
    this.handlers.onChange?.({ type: 'put', chain });
  }

  private decode(key: string, decode: () => StoredChain): StoredChain | undefined {
    try {
      return decode();
    } catch (error) {
      this.handlers.onUndecodable?.(key, error as Error);
      return undefined;
    }
  }
}
