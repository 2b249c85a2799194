/**
 * Which member of a replica group takes an event (docs/DAEMONS.md "Replica groups"). Pure: the
 * event's routing fields, the group's size and the members' load come in as arguments, so every
 * node routes an event the same way.
 *
 * - An event with a key goes to the member its key hashes to (rendezvous hashing over the member
 *   indices: stable for the group's life, and were the group resized only the keys of members
 *   that came or went would move).
 * - An event without a key but with a client id goes to the member its client id hashes to. A
 *   retry of an event of unknown outcome must reach the member that may have applied it, whose
 *   dedup table recognises it; any load-based choice could send the retry elsewhere and apply it
 *   twice.
 * - An event with neither (not deduplicated anyway) goes to the least saturated available member.
 */
import { Hash64Result, hash64Into } from '../lib/index.js';

/** What a router knows of one member's load. */
export interface ReplicaLoad {
  readonly index: number;
  /** Its node is healthy (registered, not suspected). */
  readonly available: boolean;
  /** What the member last reported, in [0, 1] (the kind's `saturation()` and its queue). */
  readonly saturation: number;
  /** Sends this router has in flight to it. */
  readonly inFlight: number;
}

/** Why a member was chosen: by the event's key, by its client id, or by load. */
export type ReplicaRouteReason = 'key' | 'client' | 'load';

export interface ReplicaRoute {
  readonly index: number;
  readonly reason: ReplicaRouteReason;
}

const encoder = new TextEncoder();
/** Seeds member i's hash as (i, this constant): one hash per member, the highest wins. */
const RENDEZVOUS_SEED_LOW = 0x5eed_0f1b;
const scratch = new Hash64Result();

/** The member of a group of `memberCount` that `key` belongs to (rendezvous hashing). */
export function replicaForKey(key: string, memberCount: number): number {
  const bytes = encoder.encode(key);
  let bestIndex = 0;
  let bestHigh = -1;
  let bestLow = -1;
  for (let index = 0; index < memberCount; index++) {
    hash64Into(bytes, 0, bytes.length, index, RENDEZVOUS_SEED_LOW, scratch);
    if (scratch.high > bestHigh || (scratch.high === bestHigh && scratch.low > bestLow)) {
      bestHigh = scratch.high;
      bestLow = scratch.low;
      bestIndex = index;
    }
  }
  return bestIndex;
}

/**
 * The available member with the lowest reported saturation, then the fewest sends in flight;
 * `turn` (any integer the router counts up) rotates among members still tied, so an idle group
 * shares events out instead of giving them all to member 0. Undefined when none is available.
 */
export function leastSaturatedReplica(loads: readonly ReplicaLoad[], turn: number): number | undefined {
  const available = loads.filter((load) => load.available);
  if (available.length === 0) return undefined;
  const best = available.reduce((a, b) =>
    b.saturation < a.saturation || (b.saturation === a.saturation && b.inFlight < a.inFlight) ? b : a,
  );
  const tied = available.filter(
    (load) => load.saturation === best.saturation && load.inFlight === best.inFlight,
  );
  return tied[Math.abs(turn) % tied.length]!.index;
}

/** Routes one event among `loads` (one per member, index order); undefined: no member available. */
export function routeReplicaEvent(
  event: { readonly key?: string | undefined; readonly clientId?: string | undefined },
  loads: readonly ReplicaLoad[],
  turn: number,
): ReplicaRoute | undefined {
  if (event.key !== undefined) return { index: replicaForKey(event.key, loads.length), reason: 'key' };
  if (event.clientId !== undefined)
    return { index: replicaForKey(event.clientId, loads.length), reason: 'client' };
  const index = leastSaturatedReplica(loads, turn);
  return index === undefined ? undefined : { index, reason: 'load' };
}
