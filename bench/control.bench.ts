import { EtcdCluster } from './cluster/etcd-cluster.js';
import { MeshosCluster } from './cluster/meshos-cluster.js';
import { type ControlRunFigures, runControlPlaneLoad } from './control/control-run.js';
import { type ControlBenchSystem, controlBenchSettings } from './control/control-settings.js';
import { type BenchContext, type BenchSuite, median } from './harness.js';

/**
 * The control plane at mesh scale: 3 voters (MeshOS processes, TLS peers, fsync on) and, in
 * turn, a 3-member etcd 3.4, each serving a fleet of simulated workers that register under a
 * lease, keep it alive and watch the membership prefix. See docs/BENCHMARKS.md.
 */
function describe(figures: ControlRunFigures): string {
  const cpu = figures.memberCpuMsPerSecond.map((value) => value.toFixed(0)).join(' / ');
  const revokes = figures.revokeLeaveMs.map((value) => value.toFixed(0)).join(', ');
  return [
    `${figures.system}: ${figures.workers} workers, ${figures.windowSeconds.toFixed(0)} s window, load ${figures.loadAverage[0].toFixed(1)} -> ${figures.loadAverage[1].toFixed(1)}`,
    `  member CPU ${cpu} ms/s (median ${median(figures.memberCpuMsPerSecond).toFixed(0)}); workers' process ${figures.fleetCpuMsPerSecond.toFixed(0)} ms/s`,
    `  keep-alive ${figures.keepAlives} round trips: p50 ${figures.keepAliveP50Ms.toFixed(1)} ms, p99 ${figures.keepAliveP99Ms.toFixed(1)} ms`,
    `  leave seen by every watcher: revoke ${revokes} ms (median ${median(figures.revokeLeaveMs).toFixed(0)}); expiry ${figures.expiryLeaveMs?.toFixed(0) ?? '-'} ms after the TTL ran out`,
    `  errors: ${figures.errorSummary}`,
  ].join('\n');
}

/** The figures compared across systems: name, unit, value. */
function headline(figures: ControlRunFigures): [string, string, number][] {
  return [
    ['control-plane CPU per member (median)', 'ms/s', median(figures.memberCpuMsPerSecond)],
    ['keep-alive p50', 'ms', figures.keepAliveP50Ms],
    ['keep-alive p99', 'ms', figures.keepAliveP99Ms],
    ['leave by revoke, all watchers (median)', 'ms', median(figures.revokeLeaveMs)],
    ['leave by expiry, after TTL, all watchers', 'ms', figures.expiryLeaveMs ?? Number.NaN],
    ['errors', 'count', figures.errors],
  ];
}

function record(context: BenchContext, figures: ControlRunFigures): void {
  for (const [metric, unit, value] of headline(figures)) {
    context.record({ metric: `${figures.system} ${metric}`, median: value, unit, samples: figures.workers });
  }
}

async function clusterFor(system: ControlBenchSystem): Promise<MeshosCluster | EtcdCluster> {
  return system === 'meshos' ? MeshosCluster.create() : EtcdCluster.create();
}

export const suite: BenchSuite = {
  name: 'control',
  async run(context) {
    const settings = controlBenchSettings(process.argv.slice(2));
    console.log(
      `  ${settings.workers} simulated workers, lease TTL ${settings.ttlSeconds} s, ${settings.durationSeconds} s measured per system`,
    );
    const results: ControlRunFigures[] = [];
    for (const system of settings.systems) {
      const figures = await runControlPlaneLoad(await clusterFor(system), settings);
      console.log(describe(figures));
      record(context, figures);
      results.push(figures);
    }
    const meshos = results.find((figures) => figures.system === 'MeshOS');
    const etcd = results.find((figures) => figures.system === 'etcd');
    if (meshos === undefined || etcd === undefined) return;
    const etcdHeadline = headline(etcd);
    for (const [index, [metric, , value]] of headline(meshos).entries()) {
      if (metric === 'errors') continue;
      const ratio = value / etcdHeadline[index]![2];
      console.log(`  MeshOS/etcd ${metric}: ${ratio.toFixed(2)}`);
      context.record({
        metric: `MeshOS/etcd ${metric}`,
        median: ratio,
        unit: 'ratio',
        samples: meshos.workers,
      });
    }
  },
};
