import { EventLoopOwnDelay } from '../../src/lib/index.js';
import { MainThreadSchedule } from '../../src/lib/node/index.js';

/**
 * An idle process beside the cluster, as a control: it does no work of its own, so every delay
 * of its event loop is waiting for a CPU. Every window it prints one JSON line with its totals
 * so far (the parent keeps the last); run by `IdleProbe` in idle-probe.ts.
 */
const PROBE_INTERVAL_MS = 10;
const WINDOW_MS = 1_000;
const STALL_THRESHOLD_MS = 50;

const schedule = new MainThreadSchedule();
const delay = new EventLoopOwnDelay(PROBE_INTERVAL_MS);
const totals = { windows: 0, wallOver: 0, ownOver: 0, wallMaxMs: 0, ownMaxMs: 0, runQueueWaitMs: 0 };
const waitAtStartMs = schedule.runQueueWaitMs() ?? 0;

setInterval(() => delay.tick(performance.now(), schedule.runQueueWaitMs() ?? 0), PROBE_INTERVAL_MS);
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
