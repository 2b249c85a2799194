/**
 * Avoid step of a pass: an operator's avoid request is marked until its time; a peer whose median RTT from the other live nodes reached
 * SLOW_PEER_RTT_MS is avoided for SLOW_PEER_AVOID_TTL_MS, and a node ramping up after maintenance
 * is avoided until its ramp-up ends. A peer already avoided is left alone (its entry is renewed
 * only once it expired and the cause is still there).
 */
import type { NodeId } from '../lib/index.js';
import {
  MAX_AVOID_TTL_MS,
  OPERATOR_AVOID_SLACK_MS,
  SLOW_PEER_AVOID_TTL_MS,
  SLOW_PEER_RTT_MS,
} from './constants.js';
import type { Emitter } from './emitter.js';
import type { AvoidRequest, DesiredState } from './state.js';

export function planAvoid(out: Emitter, desired: DesiredState): void {
  const { view } = out;
  planOperatorAvoids(out, desired.avoid ?? []);
  const measured = new Map<NodeId, number[]>();
  for (const row of view.observed.rtt) {
    if (row.from === row.to || !view.isUp(row.from)) continue;
    let list = measured.get(row.to);
    if (list === undefined) {
      list = [];
      measured.set(row.to, list);
    }
    list.push(row.rttMs);
  }
  for (const id of view.nodeIds) {
    const node = view.node(id);
    if (node.avoided || !view.isUp(id)) continue;
    if (node.maintenance.phase === 'Recovery') {
      const ttlMs = Math.min(MAX_AVOID_TTL_MS, Math.ceil(node.maintenance.untilWallMs - view.time.wallMs));
      if (ttlMs > 0) out.emit({ kind: 'MarkAvoid', peer: id, reason: 'ramping up after maintenance', ttlMs });
      continue;
    }
    const rtts = measured.get(id);
    if (rtts === undefined) continue;
    const median = medianOf(rtts);
    if (median >= SLOW_PEER_RTT_MS) {
      out.emit({
        kind: 'MarkAvoid',
        peer: id,
        reason: `median RTT ${Math.round(median)} ms from ${rtts.length} peers (slow from ${SLOW_PEER_RTT_MS} ms)`,
        ttlMs: SLOW_PEER_AVOID_TTL_MS,
      });
    }
  }
}

/**
 * An operator's request (`meshos node avoid`) is marked (`MarkAvoid`, so the audit shows it) unless
 * an entry lasting about as long is there or pending; it ends at its own time, not renewed.
 */
function planOperatorAvoids(out: Emitter, requests: readonly AvoidRequest[]): void {
  const { view } = out;
  for (const request of [...requests].sort((a, b) => a.node - b.node)) {
    const node = view.node(request.node);
    const ttlMs = Math.min(MAX_AVOID_TTL_MS, Math.ceil(request.untilWallMs - view.time.wallMs));
    if (ttlMs <= 0 || node.avoidedUntilWallMs >= request.untilWallMs - OPERATOR_AVOID_SLACK_MS) continue;
    out.emit({ kind: 'MarkAvoid', peer: request.node, reason: `operator: ${request.reason}`, ttlMs });
  }
}

function medianOf(values: number[]): number {
  values.sort((a, b) => a - b);
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}
