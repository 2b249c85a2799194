/**
 * Stalls of the machine, seen by idle probes pinned one to each CPU, set beside the members' long
 * steps. On a virtual machine the host may stop a virtual CPU for tens of milliseconds; a thread
 * on it neither runs nor waits on the guest's run queue, so the member counts that time as its
 * own. A probe pinned to that CPU, idle, sees it as lateness without run-queue wait: the part of
 * a member's long step that a probe saw stalled at the same moment is the machine's.
 */

/** One stretch in which an idle probe's timer fired late without it waiting for a CPU. */
export interface MachineStall {
  /** Epoch ms at which the probe's timer was due. */
  readonly startedAt: number;
  /** How late it fired. */
  readonly wallMs: number;
  /** The lateness less the probe's run-queue wait over it. */
  readonly ownMs: number;
}

/** A member's long step or GC pause, as its log line says (`LONG_STEP_MESSAGE`, `LONG_PAUSE_MESSAGE`). */
export interface MemberLongStep {
  readonly member: number;
  readonly source: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly wallMs: number;
  /** Own time less the GC inside for a step; own time for a GC pause. */
  readonly ownMs: number;
  /** The main thread's time on a CPU over the step or pause (an upper bound), when the member said. */
  readonly mainThreadCpuMs?: number;
  /** What the step did, as the member logged it (a Ready stretch's entries, messages, ms per phase). */
  readonly details?: Readonly<Record<string, number>>;
}

/** Fields of a long step's log line that are not what the step did. */
const LINE_FIELDS = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'name',
  'part',
  'source',
  'startedAt',
  'outsideGcMs',
  'ownMs',
  'wallMs',
  'mainThreadCpuMs',
]);

/** A member's long step with the most of it that one probe saw the machine stalled for. */
export interface JudgedLongStep extends MemberLongStep {
  readonly machineMs: number;
}

/** The part of `[startedAt, startedAt + wallMs]` during which `stall` was stalled, at most its own time. */
function overlapMs(step: MemberLongStep, stall: MachineStall): number {
  const start = Math.max(step.startedAt, stall.startedAt);
  const end = Math.min(step.startedAt + step.wallMs, stall.startedAt + stall.wallMs);
  return Math.min(Math.max(0, end - start), stall.ownMs);
}

/**
 * For each step, the most stall time any one probe saw within it (probes are on different CPUs,
 * and the step ran on one of them at a time, so their stalls are not added up).
 */
export function judgeLongSteps(
  steps: readonly MemberLongStep[],
  stallsByProbe: readonly (readonly MachineStall[])[],
): JudgedLongStep[] {
  return steps.map((step) => {
    let machineMs = 0;
    for (const stalls of stallsByProbe) {
      let probeMs = 0;
      for (const stall of stalls) probeMs += overlapMs(step, stall);
      machineMs = Math.max(machineMs, probeMs);
    }
    return { ...step, machineMs: Math.min(machineMs, step.ownMs) };
  });
}

/** A member's log line of a long step or pause (pino JSON), or undefined when it is not one. */
export function parseLongStepLine(member: number, line: string): MemberLongStep | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { source, startedAt, wallMs } = entry;
  const ownMs = entry.outsideGcMs ?? entry.ownMs;
  if (typeof source !== 'string' || typeof startedAt !== 'number') return undefined;
  if (typeof wallMs !== 'number' || typeof ownMs !== 'number') return undefined;
  const { mainThreadCpuMs } = entry;
  const details: Record<string, number> = {};
  for (const [field, value] of Object.entries(entry)) {
    if (!LINE_FIELDS.has(field) && typeof value === 'number') details[field] = value;
  }
  return {
    member,
    source,
    startedAt,
    wallMs,
    ownMs,
    ...(typeof mainThreadCpuMs === 'number' ? { mainThreadCpuMs } : {}),
    ...(Object.keys(details).length === 0 ? {} : { details }),
  };
}
