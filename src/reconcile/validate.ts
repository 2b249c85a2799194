/**
 * Checks a reconcile input before any planning: every problem found at once (up to
 * MAX_REPORTED_PROBLEMS), each with a stable code, thrown as one ReconcileInputError.
 */
import { isNodeId, type NodeId } from '../lib/index.js';
import { ACTION_KINDS, nodeOf, type PendingAction } from './actions.js';
import {
  MAX_BLOB_REPLICAS,
  MAX_CHAIN_REPLICAS_DESIRED,
  MAX_CRASH_TIMES_KEPT,
  MAX_DAEMON_MEMBERS,
  MAX_RECONCILE_NAME_CHARS,
  MAX_RECOVERY_RAMP_UP_MS,
  MAX_REPORTED_PROBLEMS,
} from './constants.js';
import { ReconcileInputError, type ReconcileProblem, type ReconcileProblemCode } from './errors.js';
import { MAINTENANCE_PHASES, type MaintenanceState } from './maintenance.js';
import type { DesiredState, ObservedNode, ObservedState } from './state.js';
import type { ReconcileTime } from './time.js';

const HEALTHS = new Set(['healthy', 'suspect', 'down']);
const PHASES: ReadonlySet<string> = new Set(MAINTENANCE_PHASES);

/** Where a problem is; built only when there is one (validation runs on every pass). */
type Path = () => string;

class Problems {
  readonly list: ReconcileProblem[] = [];
  unreported = 0;

  add(code: ReconcileProblemCode, path: Path, message: string): void {
    if (this.list.length < MAX_REPORTED_PROBLEMS) this.list.push({ code, path: path(), message });
    else this.unreported += 1;
  }

  name(path: Path, value: unknown): void {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RECONCILE_NAME_CHARS)
      this.add('INVALID_NAME', path, `must be a string of 1..${MAX_RECONCILE_NAME_CHARS} characters`);
  }

  count(path: Path, value: number, max: number): void {
    if (!Number.isSafeInteger(value) || value < 0 || value > max)
      this.add('INVALID_COUNT', path, `must be an integer in 0..${max}, got ${value}`);
  }

  time(path: Path, value: number | undefined): void {
    if (value !== undefined && !Number.isFinite(value))
      this.add('INVALID_TIME', path, `must be a finite number of milliseconds, got ${value}`);
  }

  node(path: Path, value: NodeId | undefined, known: ReadonlySet<NodeId>): void {
    if (value !== undefined && !known.has(value))
      this.add('UNKNOWN_NODE', path, `node ${String(value)} is not among the observed nodes`);
  }

  unique<K extends string | number>(path: Path, seen: Set<K>, key: K): void {
    if (seen.has(key)) this.add('DUPLICATE_ENTRY', path, `${String(key)} appears more than once`);
    seen.add(key);
  }
}

/** Throws RECONCILE_INPUT_INVALID listing every problem of `observed`, `desired` and `time`. */
export function validateReconcileInput(
  observed: ObservedState,
  desired: DesiredState,
  time: ReconcileTime,
): void {
  const problems = new Problems();
  problems.time(() => 'time.monotonicMs', time.monotonicMs);
  problems.time(() => 'time.wallMs', time.wallMs);
  const known = new Set<NodeId>();
  observed.nodes.forEach((node, index) => {
    const path = () => `observed.nodes[${index}]`;
    if (!isNodeId(node.id))
      problems.add('INVALID_VALUE', () => `${path()}.id`, `must be a positive integer node id`);
    problems.unique(() => `${path()}.id`, known, node.id);
    checkNode(problems, path, node);
  });
  checkChains(problems, observed, known);
  checkBlobsAndRows(problems, observed, known);
  checkPending(problems, observed.pending, known);
  checkDesired(problems, desired, known);
  if (problems.list.length > 0) throw new ReconcileInputError(problems.list, problems.unreported);
}

function checkNode(problems: Problems, path: Path, node: ObservedNode): void {
  if (!HEALTHS.has(node.health))
    problems.add('INVALID_VALUE', () => `${path()}.health`, `unknown health ${node.health}`);
  problems.time(() => `${path()}.downSinceWallMs`, node.downSinceWallMs);
  problems.name(() => `${path()}.zone`, node.zone);
  problems.count(() => `${path()}.capacity.daemons`, node.capacity.daemons, Number.MAX_SAFE_INTEGER);
  problems.count(() => `${path()}.capacity.chains`, node.capacity.chains, Number.MAX_SAFE_INTEGER);
  if (!(node.load >= 0 && node.load <= 1))
    problems.add('INVALID_VALUE', () => `${path()}.load`, `must be in [0, 1]`);
  checkMaintenance(problems, () => `${path()}.maintenance`, node.maintenance);
  const daemons = new Set<string>();
  node.daemons.forEach((daemon, index) => {
    const at = () => `${path()}.daemons[${index}]`;
    problems.name(() => `${at()}.name`, daemon.name);
    problems.unique(() => `${at()}.name`, daemons, daemon.name);
    problems.time(() => `${at()}.backoffUntilWallMs`, daemon.backoffUntilWallMs);
    const times = daemon.crashTimesWallMs;
    if (times.length > MAX_CRASH_TIMES_KEPT)
      problems.add(
        'INVALID_COUNT',
        () => `${at()}.crashTimesWallMs`,
        `holds more than ${MAX_CRASH_TIMES_KEPT} times`,
      );
    times.forEach((time, position) => {
      problems.time(() => `${at()}.crashTimesWallMs[${position}]`, time);
      if (position > 0 && time < times[position - 1]!)
        problems.add(
          'INVALID_TIME',
          () => `${at()}.crashTimesWallMs[${position}]`,
          'crash times must be oldest first',
        );
    });
  });
  const chains = new Set<string>();
  node.replicas.forEach((replica, index) => {
    const at = () => `${path()}.replicas[${index}]`;
    problems.name(() => `${at()}.chain`, replica.chain);
    problems.unique(() => `${at()}.chain`, chains, replica.chain);
    problems.count(() => `${at()}.lagRecords`, replica.lagRecords, Number.MAX_SAFE_INTEGER);
  });
}

function checkMaintenance(problems: Problems, path: Path, state: MaintenanceState): void {
  if (!PHASES.has(state.phase)) {
    problems.add(
      'INVALID_VALUE',
      () => `${path()}.phase`,
      `unknown maintenance phase ${String(state.phase)}`,
    );
    return;
  }
  if (state.phase === 'EnteringMaintenance')
    problems.time(() => `${path()}.deadlineWallMs`, state.deadlineWallMs);
  if (state.phase === 'Recovery') problems.time(() => `${path()}.untilWallMs`, state.untilWallMs);
}

function checkChains(problems: Problems, observed: ObservedState, known: ReadonlySet<NodeId>): void {
  const names = new Set<string>();
  observed.chains.forEach((chain, index) => {
    const path = () => `observed.chains[${index}]`;
    problems.name(() => `${path()}.name`, chain.name);
    problems.unique(() => `${path()}.name`, names, chain.name);
    const members = new Set<NodeId>();
    chain.members.forEach((member, position) => {
      problems.node(() => `${path()}.members[${position}]`, member, known);
      problems.unique(() => `${path()}.members[${position}]`, members, member);
    });
    problems.node(() => `${path()}.leader`, chain.leader, known);
    if (chain.leader !== undefined && !members.has(chain.leader))
      problems.add('INVALID_VALUE', () => `${path()}.leader`, `leader ${chain.leader} is not a member`);
  });
}

function checkBlobsAndRows(problems: Problems, observed: ObservedState, known: ReadonlySet<NodeId>): void {
  const ids = new Set<string>();
  observed.blobs.forEach((blob, index) => {
    const path = () => `observed.blobs[${index}]`;
    problems.name(() => `${path()}.id`, blob.id);
    problems.unique(() => `${path()}.id`, ids, blob.id);
    const holders = new Set<NodeId>();
    blob.holders.forEach((holder, position) => {
      problems.node(() => `${path()}.holders[${position}]`, holder, known);
      problems.unique(() => `${path()}.holders[${position}]`, holders, holder);
    });
    problems.count(() => `${path()}.heat`, blob.heat, Number.MAX_SAFE_INTEGER);
    problems.node(() => `${path()}.hottestReader`, blob.hottestReader, known);
  });
  observed.rtt.forEach((row, index) => {
    problems.node(() => `observed.rtt[${index}].from`, row.from, known);
    problems.node(() => `observed.rtt[${index}].to`, row.to, known);
    if (!(row.rttMs >= 0 && Number.isFinite(row.rttMs)))
      problems.add('INVALID_VALUE', () => `observed.rtt[${index}].rttMs`, `must be a finite number >= 0`);
  });
  observed.avoid.forEach((entry, index) => {
    problems.node(() => `observed.avoid[${index}].node`, entry.node, known);
    problems.time(() => `observed.avoid[${index}].untilWallMs`, entry.untilWallMs);
  });
}

function checkPending(
  problems: Problems,
  pending: readonly PendingAction[],
  known: ReadonlySet<NodeId>,
): void {
  const ids = new Set<number>();
  pending.forEach((entry, index) => {
    const path = () => `observed.pending[${index}]`;
    if (!Number.isSafeInteger(entry.id) || entry.id < 1)
      problems.add('INVALID_VALUE', () => `${path()}.id`, `action ids are integers >= 1, got ${entry.id}`);
    problems.unique(() => `${path()}.id`, ids, entry.id);
    if (!ACTION_KINDS.includes(entry.action.kind)) {
      problems.add(
        'INVALID_VALUE',
        () => `${path()}.action.kind`,
        `unknown action kind ${String(entry.action.kind)}`,
      );
      return;
    }
    problems.node(() => `${path()}.action`, nodeOf(entry.action), known);
  });
}

function checkDesired(problems: Problems, desired: DesiredState, known: ReadonlySet<NodeId>): void {
  const specs: [string, readonly { name?: string; id?: string }[], (index: number) => number, number][] = [
    ['daemons', desired.daemons, (index) => desired.daemons[index]!.members, MAX_DAEMON_MEMBERS],
    ['chains', desired.chains, (index) => desired.chains[index]!.replicas, MAX_CHAIN_REPLICAS_DESIRED],
    ['blobs', desired.blobs, (index) => desired.blobs[index]!.replicas, MAX_BLOB_REPLICAS],
  ];
  for (const [what, list, countOf, max] of specs) {
    const names = new Set<string>();
    list.forEach((spec, index) => {
      const path = () => `desired.${what}[${index}]`;
      const name = spec.name ?? spec.id;
      problems.name(() => `${path()}.${what === 'blobs' ? 'id' : 'name'}`, name);
      problems.unique(path, names, String(name));
      problems.count(() => `${path()}.${what === 'daemons' ? 'members' : 'replicas'}`, countOf(index), max);
    });
  }
  const avoided = new Set<NodeId>();
  (desired.avoid ?? []).forEach((request, index) => {
    const path = () => `desired.avoid[${index}]`;
    problems.node(() => `${path()}.node`, request.node, known);
    problems.unique(() => `${path()}.node`, avoided, request.node);
    problems.time(() => `${path()}.untilWallMs`, request.untilWallMs);
  });
  const nodes = new Set<NodeId>();
  desired.maintenance.forEach((request, index) => {
    const path = () => `desired.maintenance[${index}]`;
    problems.node(() => `${path()}.node`, request.node, known);
    problems.unique(() => `${path()}.node`, nodes, request.node);
    if (request.target !== 'maintenance' && request.target !== 'active')
      problems.add(
        'INVALID_VALUE',
        () => `${path()}.target`,
        `must be maintenance or active, got ${String(request.target)}`,
      );
    problems.time(() => `${path()}.deadlineWallMs`, request.deadlineWallMs);
    if (
      request.rampUpMs !== undefined &&
      !(
        Number.isSafeInteger(request.rampUpMs) &&
        request.rampUpMs >= 0 &&
        request.rampUpMs <= MAX_RECOVERY_RAMP_UP_MS
      )
    )
      problems.add(
        'INVALID_TIME',
        () => `${path()}.rampUpMs`,
        `must be whole milliseconds in 0..${MAX_RECOVERY_RAMP_UP_MS}, got ${request.rampUpMs}`,
      );
  });
}
