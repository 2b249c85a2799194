import * as os from 'node:os';
import * as path from 'node:path';
import { measuredMedian } from './chains/chains-report.js';
import { writeReportSection } from './cluster/report-section.js';
import { daemonsFigures, renderDaemonsReport } from './daemons/daemons-report.js';
import { type DaemonsRoundFigures, runDaemonsRound } from './daemons/daemons-round.js';
import { daemonsBenchSettings } from './daemons/daemons-settings.js';
import { type BenchSuite, machineDescription } from './harness.js';

/**
 * Daemons on a real cluster: three `meshos start` processes, a `counter` standby group of 3
 * members (one per node); events/s and latency at 1, 16 and 64 senders against the same
 * cluster's own etcd Put rate at the same concurrency (an event costs one chain append, a put one
 * Raft entry); the failover gap after kill -9 of the active's node, with and without the Raft
 * leader on it; the migration pause once `daemon move` exists. See docs/BENCHMARKS.md ("Daemons").
 */
const REPORT_FILE = path.join('docs', 'BENCHMARKS.md');
const REPORT_SECTION = 'daemons';

function log(line: string): void {
  console.log(line);
}

export const suite: BenchSuite = {
  name: 'daemons',
  async run(context) {
    const settings = daemonsBenchSettings(process.argv.slice(2));
    const rounds: DaemonsRoundFigures[] = [];
    for (let round = 0; round < settings.runs; round++) {
      log(`round ${round + 1}/${settings.runs}`);
      rounds.push(await runDaemonsRound(settings, log));
    }
    for (const [metric, values] of daemonsFigures(rounds)) {
      if (values.length === 0) continue;
      const unit = /\(([^()]+)\)$/.exec(metric)?.[1] ?? '';
      context.record({ metric, median: measuredMedian(values), unit, samples: values.length });
    }
    const markdown = [
      `Run ${new Date().toISOString()} on ${machineDescription()}, ${os.type()} ${os.release()}; ${settings.runs} round(s), ${settings.loadsOnly ? 'loads only (no failover, no move)' : `${settings.failoversPerCase} kill(s) per failover case per round`}; one-minute load average before each phase: ${rounds.map((round) => round.loadAverages.join(', ')).join('; ')}.`,
      '',
      renderDaemonsReport(rounds),
      ...settings.notes.map((note) => `Note: ${note}`),
      ...(settings.notes.length > 0 ? [''] : []),
      `Method: each round starts 3 fresh \`meshos start\` processes on 127.0.0.1 (TLS between peers, fsync on), deploys a \`counter\` standby group of 3 members (one per node, hot standbys, acks quorum). Loads are closed loops (each sender keeps one call in flight) for ${settings.loadDurationMs / 1000} s at each concurrency after a 1 s warm-up, senders spread over the 3 nodes on 2 HTTP/2 connections per node (the same raw client for events and for the KV puts; an event goes to any node and is routed to the active). KV puts: 256-byte values through etcd's Put on the same cluster before the daemon is deployed. Failover: the Raft leadership is first moved onto (or away from) the active's node with MoveLeader, then that node is killed with SIGKILL; after each kill the node restarts and every member catches up before the next.`,
      '',
    ].join('\n');
    log(`\n${markdown}`);
    if (settings.report) {
      writeReportSection(REPORT_FILE, REPORT_SECTION, markdown);
      log(`written to the '${REPORT_SECTION}' section of ${REPORT_FILE}`);
    }
  },
};
