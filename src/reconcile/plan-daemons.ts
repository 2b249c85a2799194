/**
 * Daemon step of a pass. For each desired daemon: members on nodes that keep daemons (up, not
 * draining) are its group; too few get new members on the least-loaded placeable nodes
 * (StartDaemon), too many lose the extras (StopDaemon); members on a draining node are stopped
 * once enough members elsewhere really run; a crashed member restarts on its node after its
 * crash-loop backoff (ApplyBackoff, then StartDaemon). Members of daemons nobody wants stop.
 */
import type { NodeId } from '../lib/index.js';
import { crashBackoff } from './backoff.js';
import { STOP_DAEMON_GRACE_MS } from './constants.js';
import type { Emitter } from './emitter.js';
import type { NodePicker } from './node-picker.js';
import type { DaemonSpec, DesiredState } from './state.js';
import { monotonicFromWall } from './time.js';
import { type DaemonInstance, type MeshView, reallyRuns } from './view.js';

export function planDaemons(out: Emitter, desired: DesiredState): void {
  const { view } = out;
  const picker = view.placeablePicker(
    (id) => view.node(id).daemons.size,
    (node) => node.capacity.daemons,
  );
  const wanted = new Set<string>();
  for (const spec of [...desired.daemons].sort((a, b) => compareText(a.name, b.name))) {
    wanted.add(spec.name);
    planDaemon(out, spec, picker);
  }
  for (const id of view.nodeIds) {
    if (!view.isUp(id)) continue;
    for (const name of [...view.node(id).daemons.keys()].sort(compareText)) {
      if (!wanted.has(name)) stop(out, name, id, 'not in the desired state');
    }
  }
}

function planDaemon(out: Emitter, spec: DaemonSpec, picker: NodePicker): void {
  const { view } = out;
  if (isSettled(view, spec)) return;
  const holders = [...view.daemonNodesOf(spec.name)].filter((id) => view.isUp(id)).sort((a, b) => a - b);
  const staying = holders.filter((id) => view.isStaying(id));
  const leaving = holders.filter((id) => !view.isStaying(id));
  if (staying.length > spec.members) {
    const extras = [...staying]
      .sort((a, b) => stopOrder(view, spec.name, a, b))
      .slice(0, staying.length - spec.members);
    for (const id of extras)
      stop(out, spec.name, id, `${staying.length} members run, ${spec.members} asked for`);
  }
  const kept = staying.filter((id) => view.node(id).daemons.has(spec.name));
  // Members of a node down for less than the daemon grace are waited for, not replaced yet.
  const waitedFor = [...view.daemonNodesOf(spec.name)].filter((id) => view.holdsDaemonsWhileDown(id)).length;
  for (const id of kept) restartIfCrashed(out, spec.name, id, instanceOf(view, spec.name, id));
  const excluded = new Set(holders);
  const zones = new Set(kept.map((id) => view.node(id).observed.zone));
  for (let missing = spec.members - kept.length - waitedFor; missing > 0; missing--) {
    const node = picker.pick(excluded, zones);
    if (node === undefined) {
      out.block(
        `daemon/${spec.name}`,
        `${spec.members} members asked for, ${spec.members - missing} placed: no placeable node with room`,
      );
      break;
    }
    excluded.add(node);
    zones.add(view.node(node).observed.zone);
    out.emit({ kind: 'StartDaemon', daemon: spec.name, node });
  }
  const runningElsewhere = kept.filter((id) => reallyRuns(instanceOf(view, spec.name, id))).length;
  if (runningElsewhere < spec.members) {
    if (leaving.length > 0)
      out.block(
        `daemon/${spec.name}`,
        `waiting for ${spec.members - runningElsewhere} members to run before draining`,
      );
    return;
  }
  for (const id of leaving) stop(out, spec.name, id, `node ${id} is draining for maintenance`);
}

/** Exactly the asked-for members, all running on staying nodes, none elsewhere: nothing to do. */
function isSettled(view: MeshView, spec: DaemonSpec): boolean {
  let running = 0;
  for (const id of view.daemonNodesOf(spec.name)) {
    if (!view.isUp(id)) continue;
    if (!view.isStaying(id) || !instanceOf(view, spec.name, id).running) return false;
    running += 1;
  }
  return running === spec.members;
}

/** The backoff of a member that is not running, then its restart once the backoff has passed. */
function restartIfCrashed(out: Emitter, daemon: string, node: NodeId, instance: DaemonInstance): void {
  if (instance.running) return;
  const { time } = out.view;
  const backoff = crashBackoff(instance.crashTimesWallMs);
  const committed = instance.backoffUntilWallMs ?? Number.NEGATIVE_INFINITY;
  if (backoff !== undefined && backoff.untilWallMs > committed && backoff.untilWallMs > time.wallMs) {
    out.emit({
      kind: 'ApplyBackoff',
      daemon,
      node,
      untilMonotonicMs: monotonicFromWall(time, backoff.untilWallMs),
    });
  }
  const until = Math.max(committed, backoff?.untilWallMs ?? Number.NEGATIVE_INFINITY);
  if (time.wallMs >= until) out.emit({ kind: 'StartDaemon', daemon, node });
}

function stop(out: Emitter, daemon: string, node: NodeId, reason: string): void {
  const deadlineMonotonicMs = out.view.time.monotonicMs + STOP_DAEMON_GRACE_MS;
  out.emit({ kind: 'StopDaemon', daemon, node, reason, deadlineMonotonicMs });
}

/**
 * Which extra member stops first: one not serving (the active last: stopping it would leave the
 * daemon without one), then one not running, then on a node not placeable, then the highest id.
 */
function stopOrder(view: MeshView, daemon: string, a: NodeId, b: NodeId): number {
  const servingA = instanceOf(view, daemon, a).serving === true ? 1 : 0;
  const servingB = instanceOf(view, daemon, b).serving === true ? 1 : 0;
  if (servingA !== servingB) return servingA - servingB;
  const runningA = instanceOf(view, daemon, a).running ? 1 : 0;
  const runningB = instanceOf(view, daemon, b).running ? 1 : 0;
  if (runningA !== runningB) return runningA - runningB;
  const placeableA = view.isPlaceable(a) ? 1 : 0;
  const placeableB = view.isPlaceable(b) ? 1 : 0;
  if (placeableA !== placeableB) return placeableA - placeableB;
  return b - a;
}

function instanceOf(view: MeshView, daemon: string, node: NodeId): DaemonInstance {
  return view.node(node).daemons.get(daemon)!;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
