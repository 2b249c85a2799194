import { performance } from 'node:perf_hooks';
import { SeededRandom, SystemClock } from '../src/lib/index.js';
import {
  type ChildSpec,
  type ChildStart,
  compileOrThrow,
  Supervisor,
  type SupervisorSpec,
} from '../src/supervisor/index.js';
import { type BenchSuite, percentile } from './harness.js';

const RESTART_SAMPLES = 500;
const TREE_RUNS = 10;
const NESTED_SUPERVISORS = 10;
const CHILDREN_PER_NESTED_SUPERVISOR = 100;

/** A child that is ready at once and ends when its signal aborts. */
const idleChild: ChildStart = (signal, context) =>
  new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
    context.ready();
  });

/** 10 nested supervisors of 100 children each; inside each, child k depends on child k/2. */
function thousandChildTree(): SupervisorSpec {
  const groups: ChildSpec[] = Array.from({ length: NESTED_SUPERVISORS }, (_, group) => ({
    name: `group-${group}`,
    lease: false,
    supervisor: {
      name: `group-${group}`,
      children: Array.from({ length: CHILDREN_PER_NESTED_SUPERVISOR }, (_, index) => ({
        name: `worker-${index}`,
        lease: { name: `group-${group}/worker-${index}` },
        start: idleChild,
        dependsOn: index === 0 ? [] : [`worker-${Math.floor(index / 2)}`],
      })),
    },
  }));
  return { name: 'node', children: groups };
}

export const suite: BenchSuite = {
  name: 'supervisor',
  async run(context) {
    // Restart latency: crash -> the child calls ready() again, zero backoff, real clock.
    let crash: (() => void) | undefined;
    let onReady: (() => void) | undefined;
    const crashy: ChildStart = (signal, childContext) =>
      new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        crash = () => reject(new Error('benchmark crash'));
        childContext.ready();
        onReady?.();
      });
    const restarting = new Supervisor(
      {
        name: 'bench',
        children: [
          {
            name: 'crashy',
            start: crashy,
            restart: { maxRestarts: 1_000, periodMs: 1, backoff: { initialMs: 0, jitterRatio: 0 } },
          },
        ],
      },
      { clock: new SystemClock(), random: new SeededRandom(1) },
    );
    await restarting.start();
    const restart = await context.repeat(RESTART_SAMPLES, async () => {
      const started = performance.now();
      const readyAgain = new Promise<void>((resolve) => {
        onReady = resolve;
      });
      crash?.();
      await readyAgain;
      return performance.now() - started;
    });
    await restarting.stop();
    context.record({
      metric: 'restart latency (crash -> ready, zero backoff, SystemClock)',
      median: restart.median,
      p99: restart.p99,
      unit: 'ms',
      samples: RESTART_SAMPLES,
    });

    // 1,000-child tree: compile, start-all and stop-all.
    const spec = thousandChildTree();
    const compileTime = await context.repeat(TREE_RUNS, () => {
      const started = performance.now();
      compileOrThrow(spec);
      return performance.now() - started;
    });
    context.record({
      metric: 'compile 1,000-child tree',
      median: compileTime.median,
      p99: compileTime.p99,
      unit: 'ms',
      samples: TREE_RUNS,
    });
    const startTimes: number[] = [];
    const stopTimes: number[] = [];
    for (let run = 0; run < TREE_RUNS; run++) {
      const tree = new Supervisor(spec, { clock: new SystemClock(), random: new SeededRandom(run) });
      const startBegan = performance.now();
      await tree.start();
      startTimes.push(performance.now() - startBegan);
      const stopBegan = performance.now();
      await tree.stop();
      stopTimes.push(performance.now() - stopBegan);
    }
    for (const [metric, values] of [
      ['start-all 1,000-child tree', startTimes],
      ['stop-all 1,000-child tree', stopTimes],
    ] as const) {
      const sorted = [...values].sort((a, b) => a - b);
      context.record({
        metric,
        median: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        unit: 'ms',
        samples: sorted.length,
      });
    }
  },
};
