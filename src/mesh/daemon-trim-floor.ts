/**
 * Publishing a daemon's trim floor (docs/CHAINS.md "Trim floor"). A member that saved a checkpoint
 * durably publishes its offset under its node, then raises the chain's floor to the lowest offset
 * of the definition's members. The floor write is one transaction fenced on the definition's mod
 * revision (a member added since the read pins 0 and fails it) and on the floor's own (two
 * publishers at once: the later one reads again), and it never lowers the floor, so a stale
 * member can neither raise it past what a current member needs nor pull it back.
 */
import {
  absent,
  type ControlCompare,
  type ControlPlane,
  daemonKey,
  unchangedSince,
} from '../control/index.js';
import { DaemonUnavailableError } from '../daemons/cluster-errors.js';
import { decodeDaemonDefinition } from '../daemons/definition-codec.js';
import {
  daemonTrimFloor,
  decodeTrimOffset,
  encodeTrimOffset,
  trimCheckpointKey,
  trimCheckpointsPrefix,
  trimFloorKey,
  trimmedInboundChain,
  trimPinKey,
  trimPinsPrefix,
} from '../daemons/trim-floor.js';
import type { DaemonDefinition } from '../daemons/types.js';
import { isNodeId, type NodeId } from '../lib/index.js';

/** Attempts when concurrent publishers keep changing the floor or the definition. */
const MAX_TRIM_FLOOR_ATTEMPTS = 3;

/** A member's view of a trimmed daemon: its definition and the inbound chain trimmed. */
interface TrimmedMembership {
  readonly definition: DaemonDefinition;
  readonly chain: string;
  /** Compares the definition's mod revision: a write fenced on it fails if the deployment changed. */
  readonly definitionUnchanged: ControlCompare;
}

/** `daemon` as `self`'s member sees it; undefined when it is gone, not trimmed, or `self` is not a member. */
async function trimmedMembership(
  plane: ControlPlane,
  daemon: string,
  self: NodeId,
): Promise<TrimmedMembership | undefined> {
  const definitionEntry = await plane.get(daemonKey(daemon));
  if (definitionEntry === undefined) return undefined;
  const definition = decodeDaemonDefinition(definitionEntry.key, definitionEntry.value);
  const chain = trimmedInboundChain(definition);
  if (chain === undefined) return undefined;
  if (!definition.members.some((member) => member.node === self)) return undefined;
  const definitionUnchanged = unchangedSince(definitionEntry.key, definitionEntry.modRevision);
  return { definition, chain, definitionUnchanged };
}

/** The chain's floor key, its value (0 while none was written) and a compare that holds while nobody writes it. */
async function currentFloor(plane: ControlPlane, chain: string) {
  const floorKey = trimFloorKey(chain);
  const current = await plane.get(floorKey);
  const floor = current === undefined ? 0 : (decodeTrimOffset(current.value) ?? 0);
  const floorUnchanged =
    current === undefined ? absent(floorKey) : unchangedSince(floorKey, current.modRevision);
  return { floorKey, floor, floorUnchanged };
}

/**
 * Records `appliedThrough` as `self`'s durable checkpoint offset on `daemon`'s inbound chain and
 * raises the floor; answers the floor now in force (undefined when the daemon is not trimmed).
 */
export async function publishTrimFloor(
  plane: ControlPlane,
  daemon: string,
  self: NodeId,
  appliedThrough: number,
): Promise<number | undefined> {
  for (let attempt = 0; attempt < MAX_TRIM_FLOOR_ATTEMPTS; attempt++) {
    const membership = await trimmedMembership(plane, daemon, self);
    if (membership === undefined) return undefined;
    const { definition, chain, definitionUnchanged } = membership;
    // Fenced like the floor: a member of a removed or changed deployment records nothing.
    const recorded = await plane.txn({
      compare: [definitionUnchanged],
      success: [
        { type: 'put', key: trimCheckpointKey(chain, self), value: encodeTrimOffset(appliedThrough) },
      ],
      failure: [],
    });
    if (!recorded.succeeded) continue;
    const listed = await plane.range(trimCheckpointsPrefix(chain));
    const checkpoints = new Map<NodeId, number>();
    for (const entry of listed.entries) {
      const offset = decodeTrimOffset(entry.value);
      const node = Number(entry.key.slice(trimCheckpointsPrefix(chain).length));
      if (offset !== undefined && isNodeId(node)) checkpoints.set(node, offset);
    }
    const pinned = await plane.range(trimPinsPrefix(chain));
    const pins = pinned.entries
      .map((entry) => decodeTrimOffset(entry.value))
      .filter((offset): offset is number => offset !== undefined);
    const wanted = daemonTrimFloor(
      definition.members.map((member) => member.node),
      checkpoints,
      pins,
    );
    const { floorKey, floor, floorUnchanged } = await currentFloor(plane, chain);
    if (wanted <= floor) return floor;
    const answer = await plane.txn({
      compare: [definitionUnchanged, floorUnchanged],
      success: [{ type: 'put', key: floorKey, value: encodeTrimOffset(wanted) }],
      failure: [],
    });
    if (answer.succeeded) return wanted;
  }
  return undefined;
}

/**
 * Records `offset` as where `self`'s member of `daemon` starts (the checkpoint it restored, or 0),
 * replacing whatever its node published before: a node whose disk was replaced left a record of a
 * checkpoint it no longer has, which would let the floor rise past records its member now needs.
 * The record may go down; the floor never does. Rewriting the floor's value in the same
 * transaction changes its mod revision, so a publisher that read the stale record fails its floor
 * write and reads again. Answers the floor in force (undefined when the daemon is not trimmed or
 * `self` is not a member): above `offset`, records the member needs may be gone, and it must start
 * from a checkpoint at or above the floor instead.
 */
export async function claimTrimStart(
  plane: ControlPlane,
  daemon: string,
  self: NodeId,
  offset: number,
): Promise<number | undefined> {
  for (let attempt = 0; attempt < MAX_TRIM_FLOOR_ATTEMPTS; attempt++) {
    const membership = await trimmedMembership(plane, daemon, self);
    if (membership === undefined) return undefined;
    const { chain, definitionUnchanged } = membership;
    const { floorKey, floor, floorUnchanged } = await currentFloor(plane, chain);
    const answer = await plane.txn({
      compare: [definitionUnchanged, floorUnchanged],
      success: [
        { type: 'put', key: trimCheckpointKey(chain, self), value: encodeTrimOffset(offset) },
        { type: 'put', key: floorKey, value: encodeTrimOffset(floor) },
      ],
      failure: [],
    });
    if (answer.succeeded) return floor;
  }
  throw new DaemonUnavailableError(daemon, 'the trim floor kept changing while a member claimed its start');
}

/**
 * How long a fork's pin outlives the node that builds the fork (it is released when the build
 * ends; a node that dies mid-build leaves it to expire with its lease). A build is bounded by its
 * reads and `FORK_REPLAY_CATCH_UP_MS`, far below this.
 */
export const FORK_PIN_TTL_SECONDS = 60;

/** A fork's hold on its parent's floor: the floor when it was pinned, and its release. */
export interface TrimPin {
  /** The parent chain's floor when pinned (undefined: the parent's chain is not trimmed). */
  readonly floor: number | undefined;
  /** Removes the pin (its lease revoked); never rejects. */
  release(): Promise<void>;
}

/**
 * Pins `offset` of `parent`'s inbound chain while fork `fork` is built from it: publishers then
 * keep the floor at or below it. Written under a lease of `FORK_PIN_TTL_SECONDS` with the
 * floor's value rewritten in the same transaction (as `claimTrimStart`: a publisher that read
 * before the pin fails its floor write and reads again). The answered floor above `offset` means
 * records from `offset` may be gone already.
 */
export async function pinTrimFloor(
  plane: ControlPlane,
  parent: string,
  fork: string,
  offset: number,
): Promise<TrimPin> {
  const definitionEntry = await plane.get(daemonKey(parent));
  const chain =
    definitionEntry === undefined
      ? undefined
      : trimmedInboundChain(decodeDaemonDefinition(definitionEntry.key, definitionEntry.value));
  if (chain === undefined) return { floor: undefined, release: async () => undefined };
  const lease = await plane.grantLease(FORK_PIN_TTL_SECONDS);
  const release = async (): Promise<void> => {
    await plane.revokeLease(lease.id).catch(() => undefined);
  };
  try {
    for (let attempt = 0; attempt < MAX_TRIM_FLOOR_ATTEMPTS; attempt++) {
      const { floorKey, floor, floorUnchanged } = await currentFloor(plane, chain);
      const answer = await plane.txn({
        compare: [floorUnchanged],
        success: [
          { type: 'put', key: trimPinKey(chain, fork), value: encodeTrimOffset(offset), lease: lease.id },
          { type: 'put', key: floorKey, value: encodeTrimOffset(floor) },
        ],
        failure: [],
      });
      if (answer.succeeded) return { floor, release };
    }
  } catch (error) {
    await release();
    throw error;
  }
  await release();
  throw new DaemonUnavailableError(parent, 'the trim floor kept changing while a fork pinned its start');
}

/** The floor of `chain` (0 when none was published or the value is not one). */
export async function readTrimFloor(plane: ControlPlane, chain: string): Promise<number> {
  const entry = await plane.get(trimFloorKey(chain));
  return entry === undefined ? 0 : (decodeTrimOffset(entry.value) ?? 0);
}
