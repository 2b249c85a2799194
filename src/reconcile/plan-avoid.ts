/**
 * Avoid step of a pass: an operator's avoid request is marked until its time; a peer whose median
 * RTT from the other live nodes reached SLOW_PEER_RTT_MS (see `slowPeers`) is avoided for
 * SLOW_PEER_AVOID_TTL_MS, and a node ramping up after maintenance is avoided until its ramp-up
 * ends. A peer already avoided is left alone (its entry is renewed
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
  const slow = slowPeers(view);
  for (const id of view.nodeIds) {
    const node = view.node(id);
    if (node.avoided || !view.isUp(id)) continue;
    if (node.maintenance.phase === 'Recovery') {
      const ttlMs = Math.min(MAX_AVOID_TTL_MS, Math.ceil(node.maintenance.untilWallMs - view.time.wallMs));
      if (ttlMs > 0) out.emit({ kind: 'MarkAvoid', peer: id, reason: 'ramping up after maintenance', ttlMs });
      continue;
    }
    const judged = slow.get(id);
    if (judged === undefined) continue;
    out.emit({
      kind: 'MarkAvoid',
      peer: id,
      reason: `median RTT ${Math.round(judged.medianMs)} ms from ${judged.peers} peers (slow from ${SLOW_PEER_RTT_MS} ms)`,
      ttlMs: SLOW_PEER_AVOID_TTL_MS,
    });
  }
}

/** A peer judged slow: its median RTT and from how many peers. */
interface SlowJudgement {
  readonly medianMs: number;
  readonly meanMs: number;
  readonly peers: number;
}

/**
 * The live peers whose median RTT from the other live peers reached SLOW_PEER_RTT_MS. Every RTT
 * to or from a slow peer is slow, so once slow peers are most of a healthy one's measurers its
 * median is slow too: the slowest is judged first (highest median, then mean, then lowest id),
 * its own measurements stop counting, and the peers it measured are judged again, until no one
 * left is slow. So a mesh where most nodes are slow avoids those, not every node.
 */
function slowPeers(view: Emitter['view']): Map<NodeId, SlowJudgement> {
  const measuredBy = new Map<NodeId, { from: NodeId; rttMs: number }[]>();
  const measuring = new Map<NodeId, NodeId[]>();
  for (const row of view.observed.rtt) {
    if (row.from === row.to || !view.isUp(row.from) || !view.isUp(row.to)) continue;
    appendTo(measuredBy, row.to, { from: row.from, rttMs: row.rttMs });
    appendTo(measuring, row.from, row.to);
  }
  const slow = new Map<NodeId, SlowJudgement>();
  /** The peers over the threshold not yet judged slow, as their measurements stand now. */
  const over = new Map<NodeId, SlowJudgement>();
  const judge = (id: NodeId): void => {
    over.delete(id);
    const rtts = (measuredBy.get(id) ?? []).filter((row) => !slow.has(row.from)).map((row) => row.rttMs);
    if (rtts.length === 0) return;
    const medianMs = medianOf(rtts);
    if (medianMs < SLOW_PEER_RTT_MS) return;
    over.set(id, {
      medianMs,
      meanMs: rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length,
      peers: rtts.length,
    });
  };
  for (const id of measuredBy.keys()) judge(id);
  for (;;) {
    let worst: [NodeId, SlowJudgement] | undefined;
    for (const peer of over) if (worst === undefined || slower(peer, worst)) worst = peer;
    if (worst === undefined) return slow;
    const [id, judged] = worst;
    slow.set(id, judged);
    over.delete(id);
    for (const measured of measuring.get(id) ?? []) if (!slow.has(measured)) judge(measured);
  }
}

/** Whether peer `a` is slower than peer `b`, each with its judgement. */
function slower([a, ja]: [NodeId, SlowJudgement], [b, jb]: [NodeId, SlowJudgement]): boolean {
  if (ja.medianMs !== jb.medianMs) return ja.medianMs > jb.medianMs;
  if (ja.meanMs !== jb.meanMs) return ja.meanMs > jb.meanMs;
  return a < b;
}

function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
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
