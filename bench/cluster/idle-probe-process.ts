import { EventLoopOwnDelay } from '../../src/lib/index.js';
import { MainThreadSchedule } from '../../src/lib/node/index.js';
import type { MachineStall } from './machine-stalls.js';

/**
 * An idle process beside the cluster, as a control: it does no work of its own, so every delay
 * of its event loop is waiting for a CPU, or the machine itself not running it (on a virtual
 * machine the host may stop a virtual CPU, which no thread inside can see as a run-queue wait).
 * Every window it prints one JSON line with its totals so far, and when told to stop (SIGTERM) a
 * last one with the stalls it saw too (the parent keeps the last); run by `IdleProbe` in
 * idle-probe.ts, pinned to one CPU when it can be.
 */
const PROBE_INTERVAL_MS = 10;
const WINDOW_MS = 1_000;
const STALL_THRESHOLD_MS = 50;
/** A lateness less run-queue wait past this is kept as a stall of the machine. */
const KEPT_STALL_MS = 5;
const KEPT_STALLS = 2_000;

const schedule = new MainThreadSchedule();
const delay = new EventLoopOwnDelay();
/** When the interval timer last fired: Node sets it again from then. */
let previousFiringMs: number | undefined;
const stalls: MachineStall[] = [];
const totals = {
  windows: 0,
  wallOver: 0,
  ownOver: 0,
  wallMaxMs: 0,
  ownMaxMs: 0,
  runQueueWaitMs: 0,
};
const waitAtStartMs = schedule.runQueueWaitMs() ?? 0;

setInterval(() => {
  const nowMs = performance.now();
  const latenessMs = previousFiringMs === undefined ? 0 : nowMs - previousFiringMs - PROBE_INTERVAL_MS;
  previousFiringMs = nowMs;
  delay.observe(latenessMs, schedule.runQueueWaitMs() ?? 0);
  if (delay.ownLatenessMs > KEPT_STALL_MS && stalls.length < KEPT_STALLS) {
    stalls.push({
      startedAt: Math.round(performance.timeOrigin + nowMs - delay.latenessMs),
      wallMs: Math.round(delay.latenessMs),
      ownMs: Math.round(delay.ownLatenessMs),
    });
  }
}, PROBE_INTERVAL_MS);
setInterval(() => {
  const window = delay.closeWindow();
  totals.windows++;
  if (window.wallMaxMs > STALL_THRESHOLD_MS) totals.wallOver++;
  if (window.ownMaxMs > STALL_THRESHOLD_MS) totals.ownOver++;
  totals.wallMaxMs = Math.max(totals.wallMaxMs, window.wallMaxMs);
  totals.ownMaxMs = Math.max(totals.ownMaxMs, window.ownMaxMs);
  totals.runQueueWaitMs = (schedule.runQueueWaitMs() ?? 0) - waitAtStartMs;
  process.stdout.write(`${JSON.stringify(totals)}\n`);
}, WINDOW_MS);
// Writes to a pipe are synchronous on Linux: the line is out before the process exits.
process.once('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ ...totals, stalls })}\n`);
  process.exit(0);
});
