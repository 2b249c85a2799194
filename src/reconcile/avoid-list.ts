/**
 * The avoid list: peers placement skips for a while, because their RTT degraded, an operator
 * said so, or they are ramping up after maintenance. One entry per peer; marking a peer already
 * avoided keeps the later expiry (marking twice is a no-op), and entries past their expiry count
 * as gone whether or not `expire` has removed them yet. Times are wall clock: the list is shared
 * through the control plane.
 */
import type { NodeId } from '../lib/index.js';
import { MAX_AVOID_ENTRIES, MAX_AVOID_TTL_MS } from './constants.js';
import { AvoidListError } from './errors.js';
import type { AvoidEntry } from './state.js';

/** The nodes `entries` avoid at `nowWallMs`. */
export function avoidedAt(entries: readonly AvoidEntry[], nowWallMs: number): Set<NodeId> {
  const avoided = new Set<NodeId>();
  for (const entry of entries) if (entry.untilWallMs > nowWallMs) avoided.add(entry.node);
  return avoided;
}

export function avoidTtlProblem(ttlMs: number): string | undefined {
  return Number.isSafeInteger(ttlMs) && ttlMs > 0 && ttlMs <= MAX_AVOID_TTL_MS
    ? undefined
    : `avoid TTL must be an integer in 1..${MAX_AVOID_TTL_MS} ms, got ${ttlMs}`;
}

export class AvoidList {
  private readonly entries = new Map<NodeId, AvoidEntry>();

  /** Avoids `peer` until `nowWallMs + ttlMs` (or longer, when it already was). */
  mark(peer: NodeId, reason: string, ttlMs: number, nowWallMs: number): AvoidEntry {
    const problem = avoidTtlProblem(ttlMs);
    if (problem !== undefined) throw new AvoidListError('AVOID_TTL_INVALID', problem);
    const current = this.entries.get(peer);
    const untilWallMs = nowWallMs + ttlMs;
    if (current !== undefined && current.untilWallMs >= untilWallMs) return current;
    if (current === undefined && this.entries.size >= MAX_AVOID_ENTRIES) {
      this.expire(nowWallMs);
      if (this.entries.size >= MAX_AVOID_ENTRIES)
        throw new AvoidListError(
          'AVOID_LIST_FULL',
          `the avoid list holds ${MAX_AVOID_ENTRIES} entries already`,
        );
    }
    const entry: AvoidEntry = { node: peer, reason, untilWallMs };
    this.entries.set(peer, entry);
    return entry;
  }

  isAvoided(peer: NodeId, nowWallMs: number): boolean {
    return (this.entries.get(peer)?.untilWallMs ?? Number.NEGATIVE_INFINITY) > nowWallMs;
  }

  /** Removes the entries expired at `nowWallMs`; answers how many went. */
  expire(nowWallMs: number): number {
    let removed = 0;
    for (const [peer, entry] of this.entries) {
      if (entry.untilWallMs <= nowWallMs) {
        this.entries.delete(peer);
        removed += 1;
      }
    }
    return removed;
  }

  /** The entries in force at `nowWallMs`, by node id. */
  active(nowWallMs: number): AvoidEntry[] {
    return [...this.entries.values()]
      .filter((entry) => entry.untilWallMs > nowWallMs)
      .sort((a, b) => a.node - b.node);
  }
}
