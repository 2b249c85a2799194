/**
 * What "observed equals desired" means in the simulated world, and what counts as flapping (an
 * action undone by a later one in the same phase). Each check answers the differences it found,
 * so a failing property prints what was still wrong.
 */
import { BLOB_HOT_HEAT, type ReconcileAction } from '../../../src/reconcile/index.js';
import type { EmittedAction, World, WorldNode } from './world.js';

function staying(node: WorldNode | undefined): boolean {
  return (
    node !== undefined &&
    node.health !== 'down' &&
    node.maintenance.phase !== 'EnteringMaintenance' &&
    node.maintenance.phase !== 'Maintenance'
  );
}

function placeable(world: World, node: WorldNode): boolean {
  return (
    node.health === 'healthy' &&
    node.maintenance.phase === 'Active' &&
    !world.avoid.isAvoided(node.id, world.wallMs())
  );
}

/** Differences between the world and its desired state; empty when they are equal. */
export function differences(world: World): string[] {
  const found: string[] = [];
  const { desired } = world;
  const status = world.executor.status();
  if (status.queued + status.inFlight > 0)
    found.push(`${status.queued} queued, ${status.inFlight} in flight`);
  const wantedDaemons = new Map<string, number>(desired.daemons.map((spec) => [spec.name, spec.members]));
  for (const [name, members] of wantedDaemons) {
    const running = [...world.nodes.values()].filter(
      (node) => staying(node) && node.daemons.get(name)?.running,
    );
    if (running.length !== members)
      found.push(`daemon ${name}: ${running.length} running members, ${members} asked for`);
  }
  for (const node of world.nodes.values()) {
    if (node.health === 'down') continue;
    for (const name of node.daemons.keys()) {
      if (!wantedDaemons.has(name)) found.push(`daemon ${name} runs on node ${node.id}, not desired`);
      else if (!staying(node)) found.push(`daemon ${name} still on draining node ${node.id}`);
    }
  }
  for (const spec of desired.chains) {
    const chain = world.chains.get(spec.name);
    if (chain === undefined) continue;
    if (chain.members.length !== spec.replicas)
      found.push(`chain ${spec.name}: ${chain.members.length} members, ${spec.replicas} asked for`);
    for (const member of chain.members) {
      const node = world.nodes.get(member);
      if (!staying(node)) found.push(`chain ${spec.name}: member ${member} is down or draining`);
      else if (node!.replicas.get(spec.name) !== 0)
        found.push(`chain ${spec.name}: member ${member} holds no caught-up copy`);
    }
    if (chain.leader === undefined || !chain.members.includes(chain.leader))
      found.push(`chain ${spec.name}: no leader`);
  }
  for (const node of world.nodes.values()) {
    if (node.health === 'down') continue;
    for (const name of node.replicas.keys()) {
      if (!world.chains.get(name)?.members.includes(node.id))
        found.push(`node ${node.id} holds ${name} as no member`);
    }
  }
  for (const spec of desired.blobs) {
    const blob = world.blobs.get(spec.id);
    if (blob === undefined) continue;
    const kept = [...blob.holders].filter((holder) => staying(world.nodes.get(holder))).length;
    if (kept !== spec.replicas)
      found.push(`blob ${spec.id}: ${kept} copies kept, ${spec.replicas} asked for`);
    for (const holder of blob.holders) {
      if (!staying(world.nodes.get(holder)))
        found.push(`blob ${spec.id}: node ${holder} is down or draining and still listed`);
    }
    const reader = blob.hottestReader === undefined ? undefined : world.nodes.get(blob.hottestReader);
    if (
      blob.heat >= BLOB_HOT_HEAT &&
      reader !== undefined &&
      placeable(world, reader) &&
      !blob.holders.has(reader.id)
    )
      found.push(`blob ${spec.id}: hot, and its reader ${reader.id} holds no copy`);
  }
  const requests = new Map<number, string>(
    desired.maintenance.map((request) => [request.node, request.target]),
  );
  for (const node of world.nodes.values()) {
    const target = requests.get(node.id) ?? 'active';
    const phase = node.maintenance.phase;
    const settled =
      target === 'active' ? phase === 'Active' : phase === 'Maintenance' || phase === 'DrainFailed';
    if (!settled) found.push(`node ${node.id}: maintenance ${phase}, ${target} asked for`);
  }
  for (const node of world.nodes.values()) {
    if (node.slow && node.health !== 'down' && !world.avoid.isAvoided(node.id, world.wallMs()))
      found.push(`slow node ${node.id} is not avoided`);
  }
  return found;
}

/** What an action adds (+) or removes (-), as a key a later opposite one would undo. */
function effectOf(action: ReconcileAction): string | undefined {
  switch (action.kind) {
    case 'StartDaemon':
      return `+daemon:${action.daemon}@${action.node}`;
    case 'StopDaemon':
      return `-daemon:${action.daemon}@${action.node}`;
    case 'PullReplica':
      return `+replica:${action.chain}@${action.node}`;
    case 'DropReplica':
      return `-replica:${action.chain}@${action.node}`;
    case 'RequestPlacement':
      return `+member:${action.chain}@${action.target}`;
    case 'RequestEviction':
      return `-member:${action.chain}@${action.victim}`;
    case 'MigrateBlob':
      return `+blob:${action.blob}@${action.to}`;
    case 'DropBlobCopy':
      return `-blob:${action.blob}@${action.node}`;
    default:
      return undefined;
  }
}

/** What a blob move also does to its source. */
function alsoDoes(action: ReconcileAction): string | undefined {
  return action.kind === 'MigrateBlob' && !action.keepSource
    ? `-blob:${action.blob}@${action.from}`
    : undefined;
}

/**
 * Pairs of actions in `emitted` where a later one undoes an earlier one (a member started then
 * stopped on the same node, a replica pulled then dropped, ...). A daemon restarted after a crash
 * is a start, not an undo of a stop.
 */
export function undonePairs(emitted: readonly EmittedAction[]): string[] {
  const done = new Map<string, EmittedAction>();
  const pairs: string[] = [];
  for (const entry of emitted) {
    const effects = [effectOf(entry.pending.action), alsoDoes(entry.pending.action)].filter(
      (key) => key !== undefined,
    );
    for (const effect of effects) {
      const opposite = effect.startsWith('+') ? `-${effect.slice(1)}` : `+${effect.slice(1)}`;
      const earlier = done.get(opposite);
      if (earlier !== undefined) {
        pairs.push(
          `round ${entry.round} ${JSON.stringify(entry.pending.action)} undoes round ${earlier.round} ${JSON.stringify(earlier.pending.action)}`,
        );
      }
      done.set(effect, entry);
    }
  }
  return pairs;
}
