/**
 * `DaemonDirectory`: deployed daemons' definitions in the control plane (`daemons/<name>`).
 * Every change is a compare-and-swap on the definition's mod revision, so of two writers that
 * read one version only one changes it: each daemon epoch has exactly one active. Writers may
 * add fence compares (the coordinator's hold on its seat).
 */
import {
  absent,
  type ControlCompare,
  type ControlEntry,
  type ControlPlane,
  type ControlTxnOp,
  type ControlTxnOpResult,
  daemonKey,
  KEYSPACE_PREFIXES,
  PrefixFollower,
  present,
  reconcileDesiredKey,
  unchangedSince,
} from '../control/index.js';
import type { Clock, NodeId } from '../lib/index.js';
import { DaemonExistsError, DeployedDaemonNotFoundError } from './cluster-errors.js';
import { decodeDaemonDefinition, encodeDaemonDefinition } from './definition-codec.js';
import type { DaemonDefinition } from './types.js';

/** A definition as read, with the mod revision a compare-and-swap compares. */
export interface StoredDaemon {
  readonly definition: DaemonDefinition;
  readonly modRevision: number;
}

export function storedDaemonOf(entry: ControlEntry): StoredDaemon {
  return { definition: decodeDaemonDefinition(entry.key, entry.value), modRevision: entry.modRevision };
}

/** `applied`: `next` is stored; otherwise `current` is what another writer stored first. */
export type DaemonSwapAnswer =
  | { readonly applied: true; readonly daemon: StoredDaemon }
  | { readonly applied: false; readonly current: StoredDaemon | undefined; readonly fenced: boolean };

export class DaemonDirectory {
  constructor(readonly plane: ControlPlane) {}

  /** Stores a new definition; DAEMON_EXISTS if the name is taken. */
  async create(definition: DaemonDefinition): Promise<StoredDaemon> {
    const key = daemonKey(definition.name);
    const answer = await this.plane.txn({
      compare: [absent(key)],
      success: [{ type: 'put', key, value: encodeDaemonDefinition(definition) }],
      failure: [],
    });
    if (!answer.succeeded) throw new DaemonExistsError(definition.name);
    return { definition, modRevision: answer.revision };
  }

  async get(name: string): Promise<StoredDaemon | undefined> {
    const entry = await this.plane.get(daemonKey(name));
    return entry === undefined ? undefined : storedDaemonOf(entry);
  }

  async require(name: string): Promise<StoredDaemon> {
    const daemon = await this.get(name);
    if (daemon === undefined) throw new DeployedDaemonNotFoundError(name);
    return daemon;
  }

  /** Every decodable definition, by name (all pages at one revision). */
  async list(): Promise<StoredDaemon[]> {
    const daemons: StoredDaemon[] = [];
    let page = await this.plane.range(KEYSPACE_PREFIXES.daemons);
    const revision = page.revision;
    for (;;) {
      for (const entry of page.entries) {
        try {
          daemons.push(storedDaemonOf(entry));
        } catch {
          // Not a definition this code wrote: left out, as followers leave it out.
        }
      }
      const last = page.entries[page.entries.length - 1];
      if (!page.more || last === undefined) return daemons;
      page = await this.plane.range(KEYSPACE_PREFIXES.daemons, { revision, startAfter: last.key });
    }
  }

  /**
   * Deletes the definition, and with it an operator's member count (`meshos daemon scale`), so a
   * daemon deployed again under the name starts from its own; DAEMON_NOT_FOUND if there is none.
   */
  async delete(name: string): Promise<void> {
    const key = daemonKey(name);
    const answer = await this.plane.txn({
      compare: [present(key)],
      success: [
        { type: 'delete', key },
        { type: 'delete', key: reconcileDesiredKey(name) },
      ],
      failure: [],
    });
    if (!answer.succeeded) throw new DeployedDaemonNotFoundError(name);
  }

  /**
   * Stores `next` only if the definition is still at `current`'s revision and `fence` holds;
   * `also` joins more compares and writes to the same transaction (a promotion's chain epochs).
   * `fenced` in the answer: the definition was unchanged, another compare failed.
   */
  async swap(
    current: StoredDaemon,
    next: DaemonDefinition,
    fence: readonly ControlCompare[] = [],
    also: { readonly compare: readonly ControlCompare[]; readonly success: readonly ControlTxnOp[] } = {
      compare: [],
      success: [],
    },
  ): Promise<DaemonSwapAnswer> {
    const key = daemonKey(current.definition.name);
    const answer = await this.plane.txn({
      compare: [unchangedSince(key, current.modRevision), ...fence, ...also.compare],
      success: [{ type: 'put', key, value: encodeDaemonDefinition(next) }, ...also.success],
      failure: [{ type: 'get', key }],
    });
    if (answer.succeeded)
      return { applied: true, daemon: { definition: next, modRevision: answer.revision } };
    const entry = entryOf(answer.results[0]);
    const stored = entry === undefined ? undefined : storedDaemonOf(entry);
    return { applied: false, current: stored, fenced: entry?.modRevision === current.modRevision };
  }

  /**
   * Commits `also`'s writes only while the definition is still at `current`'s revision (and
   * `also`'s compares hold), leaving the definition itself as it is: what only the active the
   * control plane names may do (its node taking the daemon's chains). True when committed.
   */
  async whileUnchanged(
    current: StoredDaemon,
    also: { readonly compare: readonly ControlCompare[]; readonly success: readonly ControlTxnOp[] },
  ): Promise<boolean> {
    const key = daemonKey(current.definition.name);
    const answer = await this.plane.txn({
      compare: [unchangedSince(key, current.modRevision), ...also.compare],
      success: [...also.success],
      failure: [],
    });
    return answer.succeeded;
  }

  /** Follows every definition; `onChange` gets the whole map after each listing and each change. */
  follow(onChange: (daemons: ReadonlyMap<string, StoredDaemon>) => void, clock: Clock): DaemonFollower {
    return new DaemonFollower(this.plane, onChange, clock);
  }
}

/** The node of the definition's member `index` (its active when `index` is `definition.active`). */
export function memberNode(definition: DaemonDefinition, index: number | undefined): NodeId | undefined {
  return definition.members.find((member) => member.index === index)?.node;
}

/** The epoch-bumping change of active: the member `active` serves from `epoch + 1` on. */
export function withActive(definition: DaemonDefinition, active: number): DaemonDefinition {
  return { ...definition, active, epoch: definition.epoch + 1 };
}

/** Member `index` moves to `node` (its old node is gone); the active and the epoch stay. */
export function withReplacedMember(
  definition: DaemonDefinition,
  index: number,
  node: NodeId,
): DaemonDefinition {
  return {
    ...definition,
    members: definition.members.map((member) => (member.index === index ? { index, node } : member)),
  };
}

/**
 * The epoch-bumping move of member `index` to `node` (a replica member whose node is lost): it
 * serves there from `epoch + 1` on, so whatever its old node still appends is fenced.
 */
export function withMemberOn(definition: DaemonDefinition, index: number, node: NodeId): DaemonDefinition {
  return { ...withReplacedMember(definition, index, node), epoch: definition.epoch + 1 };
}

/** A new member on `node` with the next free index (a standby: the active and the epoch stay). */
export function withAddedMember(definition: DaemonDefinition, node: NodeId): DaemonDefinition {
  const index = Math.max(-1, ...definition.members.map((member) => member.index)) + 1;
  return { ...definition, members: [...definition.members, { index, node }] };
}

/** Whether member `index` takes events: the active, or any member of a replica group. */
export function servesEvents(definition: DaemonDefinition, index: number): boolean {
  return definition.group === 'replica' || definition.active === index;
}

export class DaemonFollower {
  private readonly current = new Map<string, StoredDaemon>();
  private readonly follower: PrefixFollower;

  constructor(
    plane: ControlPlane,
    private readonly onChange: (daemons: ReadonlyMap<string, StoredDaemon>) => void,
    clock: Clock,
  ) {
    this.follower = new PrefixFollower(
      plane,
      KEYSPACE_PREFIXES.daemons,
      {
        onReset: (entries) => {
          this.current.clear();
          for (const entry of entries.values()) this.take(entry.key, entry);
          this.onChange(this.current);
        },
        onEvent: (event) => {
          this.take(
            event.type === 'put' ? event.entry.key : event.key,
            event.type === 'put' ? event.entry : undefined,
          );
          this.onChange(this.current);
        },
      },
      { clock },
    );
  }

  get daemons(): ReadonlyMap<string, StoredDaemon> {
    return this.current;
  }

  stop(): void {
    this.follower.stop();
  }

  /** Keeps a decodable definition; a deleted or undecodable one leaves the map. */
  private take(key: string, entry: ControlEntry | undefined): void {
    const name = key.slice(KEYSPACE_PREFIXES.daemons.length);
    if (entry === undefined) {
      this.current.delete(name);
      return;
    }
    try {
      this.current.set(name, storedDaemonOf(entry));
    } catch {
      this.current.delete(name);
    }
  }
}

function entryOf(result: ControlTxnOpResult | undefined): ControlEntry | undefined {
  return result?.type === 'get' ? result.entry : undefined;
}
