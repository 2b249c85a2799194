import * as os from 'node:os';
import type { BenchCluster } from './bench-cluster.js';
import { type CatchUpResult, DEFAULT_CATCH_UP_OPTIONS, renderCatchUp, runCatchUp } from './catch-up.js';
import { type ChaosResult, DEFAULT_CHAOS_OPTIONS, renderChaos, runChaos } from './chaos.js';
import { EtcdCluster } from './etcd-cluster.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './meshos-cluster.js';
import { writeReportSection } from './report-section.js';
import {
  DEFAULT_SATURATION_OPTIONS,
  renderSaturation,
  runSaturation,
  type SaturationOptions,
  type SaturationResult,
} from './saturation.js';
import type { Log, SuiteOptions } from './suite.js';

/** Starts `cluster`, runs `work` on it and stops it, printing the members' output on failure. */
export async function withCluster<Result>(
  cluster: BenchCluster,
  timeoutMs: number,
  log: Log,
  work: (cluster: BenchCluster) => Promise<Result>,
): Promise<Result> {
  try {
    log(`${cluster.system}: starting 3 members (${cluster.endpoints.join(', ')})`);
    await cluster.start(timeoutMs);
    return await work(cluster);
  } catch (error) {
    log(cluster.describeOutput());
    throw error;
  } finally {
    await cluster.stop();
    log(`${cluster.system}: stopped`);
  }
}

export interface StressModeOptions {
  readonly mode: 'saturation' | 'chaos' | 'catch-up';
  readonly systems: ReadonlySet<string>;
  /** Saturation: length of each load phase; chaos: length of the run. Defaults per mode. */
  readonly durationMs?: number;
  /** Catch-up: keys loaded while the follower is down. */
  readonly keys?: number;
  readonly suite: SuiteOptions;
  /** The page the mode's section is written into. */
  readonly output: string;
  readonly log: Log;
}

async function clusterFor(system: string): Promise<BenchCluster> {
  return system === 'etcd' ? EtcdCluster.create() : MeshosCluster.create(clusterOptionsFromEnvironment());
}

/** Runs one stress mode on each system in turn (etcd first) and writes its section of the page. */
export async function runStressMode(options: StressModeOptions): Promise<void> {
  const systems = ['etcd', 'meshos'].filter((system) => options.systems.has(system));
  const context = `Measured ${new Date().toISOString()} on ${os.cpus().length} cores (load average ${os.loadavg()[0]?.toFixed(2)} at start)`;
  let section: string;
  if (options.mode === 'saturation') {
    const saturation: SaturationOptions = {
      ...DEFAULT_SATURATION_OPTIONS,
      ...(options.durationMs === undefined ? {} : { phaseMs: options.durationMs }),
    };
    const results: SaturationResult[] = [];
    for (const system of systems) {
      results.push(
        await withCluster(await clusterFor(system), options.suite.clusterTimeoutMs, options.log, (cluster) =>
          runSaturation(cluster, saturation, options.suite, options.log),
        ),
      );
    }
    section = renderSaturation(results, saturation, context);
  } else if (options.mode === 'catch-up') {
    const catchUp = {
      ...DEFAULT_CATCH_UP_OPTIONS,
      ...(options.keys === undefined ? {} : { keys: options.keys }),
    };
    const results: CatchUpResult[] = [];
    for (const system of systems) {
      results.push(
        await withCluster(await clusterFor(system), options.suite.clusterTimeoutMs, options.log, (cluster) =>
          runCatchUp(cluster, catchUp, options.log),
        ),
      );
    }
    section = renderCatchUp(results, catchUp, context);
  } else {
    const chaos = {
      ...DEFAULT_CHAOS_OPTIONS,
      ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
    };
    const results: ChaosResult[] = [];
    for (const system of systems) {
      results.push(
        await withCluster(await clusterFor(system), options.suite.clusterTimeoutMs, options.log, (cluster) =>
          runChaos(cluster, chaos, options.log),
        ),
      );
    }
    section = renderChaos(results, chaos, context);
  }
  writeReportSection(options.output, options.mode, section);
  options.log(`\n${section}`);
  options.log(`written to ${options.output}`);
}
