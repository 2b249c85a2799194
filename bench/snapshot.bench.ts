import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { runToEnd, type SteppedTask, SystemClock } from '../src/lib/index.js';
import { NodeDisk, silentLogger } from '../src/lib/node/index.js';
import { NodeStateMachine } from '../src/server/index.js';
import { openRaftLogStore } from '../src/store/index.js';
import { type BenchContext, type BenchSuite, percentile } from './harness.js';
import { scatteredKey } from './keys.js';

const SNAPSHOT_KEYS = 1_000_000;
const VALUE_BYTES = 128;
const NS_PER_MS = 1e6;

interface Measured<T> {
  readonly value: T;
  readonly elapsedMs: number;
  /** Largest delay of the event loop while the work ran (perf_hooks' monitor, 1 ms resolution). */
  readonly maxLoopDelayMs: number;
  /** Longest stretch of synchronous work, measured around each step. */
  readonly longestStepMs: number;
  /** 99th percentile of the steps' durations. */
  readonly p99StepMs: number;
  /**
   * The same in CPU time (`process.cpuUsage`, all of the process's threads): on a machine shared
   * with other work a step the kernel descheduled lasts longer than its own work; this does not.
   */
  readonly longestStepCpuMs: number;
  readonly p99StepCpuMs: number;
  readonly steps: number;
  /** Longest garbage-collection pause while the work ran. */
  readonly longestGcPauseMs: number;
}

/** Runs `work` while the event loop's delay and garbage-collection pauses are monitored. */
async function monitored<T>(
  work: () => Promise<Omit<Measured<T>, 'maxLoopDelayMs' | 'elapsedMs' | 'longestGcPauseMs'>>,
): Promise<Measured<T>> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let longestGcPauseMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longestGcPauseMs = Math.max(longestGcPauseMs, entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  // Let the monitor's timer arm before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  const measured = await work();
  const elapsedMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 20));
  histogram.disable();
  gcObserver.disconnect();
  return { ...measured, elapsedMs, maxLoopDelayMs: histogram.max / NS_PER_MS, longestGcPauseMs };
}

/** The way a node ran snapshots before: the whole task in one synchronous call. */
async function inOneGo<T>(task: () => SteppedTask<T>) {
  return monitored(async () => {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const value = runToEnd(task());
    const elapsedMs = performance.now() - started;
    const cpuMs = cpuMsSince(cpuStarted);
    return {
      value,
      longestStepMs: elapsedMs,
      p99StepMs: elapsedMs,
      longestStepCpuMs: cpuMs,
      p99StepCpuMs: cpuMs,
      steps: 1,
    };
  });
}

function cpuMsSince(started: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/** The way a node runs them now: a step per turn of the event loop. */
async function stepByStep<T>(task: () => SteppedTask<T>) {
  return monitored(async () => {
    const running = task();
    const durations: number[] = [];
    const cpuDurations: number[] = [];
    for (;;) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const done = running.step();
      durations.push(performance.now() - started);
      cpuDurations.push(cpuMsSince(cpuStarted));
      if (done) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    durations.sort((left, right) => left - right);
    cpuDurations.sort((left, right) => left - right);
    return {
      value: running.result(),
      longestStepMs: durations.at(-1) ?? 0,
      p99StepMs: percentile(durations, 0.99),
      longestStepCpuMs: cpuDurations.at(-1) ?? 0,
      p99StepCpuMs: percentile(cpuDurations, 0.99),
      steps: durations.length,
    };
  });
}

function report(context: BenchContext, label: string, measured: Measured<unknown>): void {
  context.record({ metric: `${label}: total`, median: measured.elapsedMs, unit: 'ms', samples: 1 });
  context.record({
    metric: `${label}: max event-loop delay`,
    median: measured.maxLoopDelayMs,
    unit: 'ms',
    samples: 1,
    target: '< 50 ms',
  });
  context.record({
    metric: `${label}: step p99 / longest (${measured.steps} steps)`,
    median: measured.p99StepMs,
    p99: measured.longestStepMs,
    unit: 'ms',
    samples: 1,
  });
  context.record({
    metric: `${label}: step CPU time p99 / longest`,
    median: measured.p99StepCpuMs,
    p99: measured.longestStepCpuMs,
    unit: 'ms',
    samples: 1,
  });
  context.record({
    metric: `${label}: longest GC pause`,
    median: measured.longestGcPauseMs,
    unit: 'ms',
    samples: 1,
  });
}

/**
 * How long a node's event loop stalls while it snapshots a 1,000,000-key store, restores one and
 * saves the snapshot file: in one go (as before) and a step at a time (as a node does now).
 */
export const suite: BenchSuite = {
  name: 'snapshot',
  async run(context) {
    const machine = new NodeStateMachine();
    const value = new Uint8Array(VALUE_BYTES).fill(0x5a);
    for (let index = 0; index < SNAPSHOT_KEYS; index++) {
      machine.kv.applyCommand(index + 1, { type: 'put', key: scatteredKey(index), value });
    }
    const label = `${SNAPSHOT_KEYS / 1_000_000}M keys`;

    const encodedAtOnce = await inOneGo(() => machine.startSnapshot());
    report(context, `${label} encode, in one go`, encodedAtOnce);
    const encoded = await stepByStep(() => machine.startSnapshot());
    report(context, `${label} encode, stepped`, encoded);
    context.record({
      metric: `${label} snapshot size`,
      median: encoded.value.length,
      unit: 'bytes',
      samples: 1,
    });
    if (Buffer.compare(encoded.value, encodedAtOnce.value) !== 0) throw new Error('stepped snapshot differs');

    report(
      context,
      `${label} restore, in one go`,
      await inOneGo(() => new NodeStateMachine().startRestore(encoded.value)),
    );
    report(
      context,
      `${label} restore, stepped`,
      await stepByStep(() => new NodeStateMachine().startRestore(encoded.value)),
    );

    const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-snapshot-bench-'));
    try {
      // The production disk writes the log inline; snapshot files go through the thread pool.
      const { store } = await openRaftLogStore(new NodeDisk({ inlineWrites: true }), directory, {
        clock: new SystemClock(),
        logger: silentLogger,
      });
      const saved = await monitored(async () => {
        await store.saveSnapshot({ index: 1, term: 1, config: new Uint8Array(8), data: encoded.value });
        return {
          value: undefined,
          longestStepMs: Number.NaN,
          p99StepMs: Number.NaN,
          longestStepCpuMs: Number.NaN,
          p99StepCpuMs: Number.NaN,
          steps: 0,
        };
      });
      context.record({
        metric: `${label} snapshot file save: total`,
        median: saved.elapsedMs,
        unit: 'ms',
        samples: 1,
      });
      context.record({
        metric: `${label} snapshot file save: max event-loop delay`,
        median: saved.maxLoopDelayMs,
        unit: 'ms',
        samples: 1,
        target: '< 50 ms',
      });
      await store.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  },
};
