/**
 * The reconcile service's records in the control plane (`reconcile/...`, docs/RECONCILE.md):
 * what each node reports it runs (under its registration lease), the crash-loop backoffs and
 * restarts the reconciler committed, and the avoid list. JSON, each read back through a checker
 * that names every problem.
 */
import { type ControlPlane, readRecord, reconcileDesiredKey } from '../control/index.js';
import { MAX_DAEMON_MEMBERS } from '../daemons/cluster-limits.js';
import { InputProblems } from '../lib/index.js';
import type { MemberReport } from './daemon-members.js';
import {
  MAX_REPORTED_CRASH_TIMES,
  MAX_REPORTED_DAEMON_MEMBERS,
  MAX_REPORTED_NAME_CHARS,
} from './reconcile-limits.js';

/** `reconcile/reports/<nodeId>`: what a node runs, rewritten when it changes. */
export interface NodeReport {
  /** Its members; `running` false once one crashed, until a restart the reconciler asks for. */
  readonly daemons: readonly MemberReport[];
  readonly writtenAtWallMs: number;
}

/** `reconcile/backoff/<daemon>/<nodeId>`: no restart of that member before `untilWallMs`. */
export interface BackoffRecord {
  readonly untilWallMs: number;
  readonly actionId: number;
  readonly epoch: number;
}

/**
 * `reconcile/restarts/<nodeId>/<daemon>`: the node restarts its crashed member of the daemon if
 * it crashed `crashes` times (what its report said when the reconciler asked; a request from
 * before its last crash was seen is stale and dropped).
 */
export interface RestartRecord {
  readonly actionId: number;
  readonly epoch: number;
  readonly crashes: number;
}

/** `reconcile/avoid/<nodeId>` (under a lease of its TTL): placement skips the node until `untilWallMs`. */
export interface AvoidRecord {
  readonly reason: string;
  readonly untilWallMs: number;
}

/**
 * `reconcile/desired/<daemon>`: the members a standby or fork daemon should have, when an operator
 * asked for another count than its definition places (reconcile starts or stops members to match).
 */
export interface DesiredMembersRecord {
  readonly members: number;
}

export function readDesiredMembersRecord(key: string, bytes: Uint8Array): DesiredMembersRecord {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (problems.record('desired', value))
      problems.integer('desired.members', value.members, 1, MAX_DAEMON_MEMBERS);
    problems.throwIfAny(key);
    return value as unknown as DesiredMembersRecord;
  });
}

/** The operator's member count for `daemon` (`meshos daemon scale`), if one was asked for. */
export async function readDesiredMembers(
  plane: Pick<ControlPlane, 'get'>,
  daemon: string,
): Promise<number | undefined> {
  const key = reconcileDesiredKey(daemon);
  const entry = await plane.get(key);
  return entry === undefined ? undefined : readDesiredMembersRecord(key, entry.value).members;
}

/** `reconcile/operator-avoid/<nodeId>` (under a lease of its TTL): an operator's avoid request. */
export interface OperatorAvoidRecord {
  readonly reason: string;
  readonly requestedAtWallMs: number;
  readonly untilWallMs: number;
}

export function readOperatorAvoidRecord(key: string, bytes: Uint8Array): OperatorAvoidRecord {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (problems.record('operator avoid', value)) {
      problems.text('avoid.reason', value.reason);
      problems.integer('avoid.requestedAtWallMs', value.requestedAtWallMs, 0, Number.MAX_SAFE_INTEGER);
      problems.integer('avoid.untilWallMs', value.untilWallMs, 0, Number.MAX_SAFE_INTEGER);
    }
    problems.throwIfAny(key);
    return value as unknown as OperatorAvoidRecord;
  });
}

export function readNodeReport(key: string, bytes: Uint8Array): NodeReport {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (!problems.record('report', value) || !Array.isArray(value.daemons)) {
      problems.add('report.daemons must be an array');
      problems.throwIfAny(key);
    }
    const report = value as { daemons: unknown[]; writtenAtWallMs: unknown };
    problems.integer('report.writtenAtWallMs', report.writtenAtWallMs, 0, Number.MAX_SAFE_INTEGER);
    if (report.daemons.length > MAX_REPORTED_DAEMON_MEMBERS)
      problems.add(
        `report.daemons lists ${report.daemons.length} members, at most ${MAX_REPORTED_DAEMON_MEMBERS}`,
      );
    else
      for (const [index, member] of report.daemons.entries())
        memberProblems(problems, `report.daemons[${index}]`, member);
    problems.throwIfAny(key);
    return report as unknown as NodeReport;
  });
}

function memberProblems(problems: InputProblems, field: string, member: unknown): void {
  if (!problems.record(field, member)) return;
  if (
    typeof member.name !== 'string' ||
    member.name.length === 0 ||
    member.name.length > MAX_REPORTED_NAME_CHARS
  )
    problems.add(`${field}.name must be a daemon name`);
  problems.boolean(`${field}.running`, member.running);
  problems.integer(`${field}.crashes`, member.crashes, 0, Number.MAX_SAFE_INTEGER);
  if (!Array.isArray(member.crashTimesWallMs) || member.crashTimesWallMs.length > MAX_REPORTED_CRASH_TIMES)
    problems.add(`${field}.crashTimesWallMs must be an array of at most ${MAX_REPORTED_CRASH_TIMES} times`);
  else
    for (const [index, time] of (member.crashTimesWallMs as unknown[]).entries())
      problems.integer(`${field}.crashTimesWallMs[${index}]`, time, 0, Number.MAX_SAFE_INTEGER);
}

export function readBackoffRecord(key: string, bytes: Uint8Array): BackoffRecord {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (problems.record('backoff', value)) {
      problems.integer('backoff.untilWallMs', value.untilWallMs, 0, Number.MAX_SAFE_INTEGER);
      problems.integer('backoff.actionId', value.actionId, 1, Number.MAX_SAFE_INTEGER);
      problems.integer('backoff.epoch', value.epoch, 0, Number.MAX_SAFE_INTEGER);
    }
    problems.throwIfAny(key);
    return value as unknown as BackoffRecord;
  });
}

export function readRestartRecord(key: string, bytes: Uint8Array): RestartRecord {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (problems.record('restart', value)) {
      problems.integer('restart.actionId', value.actionId, 1, Number.MAX_SAFE_INTEGER);
      problems.integer('restart.epoch', value.epoch, 0, Number.MAX_SAFE_INTEGER);
      problems.integer('restart.crashes', value.crashes, 0, Number.MAX_SAFE_INTEGER);
    }
    problems.throwIfAny(key);
    return value as unknown as RestartRecord;
  });
}

export function readAvoidRecord(key: string, bytes: Uint8Array): AvoidRecord {
  return readRecord(key, bytes, (value) => {
    const problems = new InputProblems();
    if (problems.record('avoid', value)) {
      problems.text('avoid.reason', value.reason);
      problems.integer('avoid.untilWallMs', value.untilWallMs, 0, Number.MAX_SAFE_INTEGER);
    }
    problems.throwIfAny(key);
    return value as unknown as AvoidRecord;
  });
}
