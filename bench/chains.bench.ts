import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { RECORD_BYTES } from './chains/append-load.js';
import {
  type ChainsColumn,
  chainsColumns,
  measuredMedian,
  renderChainsTable,
} from './chains/chains-report.js';
import {
  APPEND_CLIENTS,
  FAILOVER_CLIENTS,
  MAX_APPENDS_PER_LOAD,
  READ_MAX_MS,
  READ_MAX_RECORDS,
  type RoundFigures,
  runChainsRound,
} from './chains/chains-round.js';
import {
  type ChainsBenchSettings,
  type ChainsBenchSystem,
  chainsBenchSettings,
} from './chains/chains-settings.js';
import {
  APPENDER_CONNECTIONS_PER_MEMBER,
  type ChainsSystem,
  SystemUnavailableError,
} from './chains/chains-system.js';
import {
  NATS_SERVER_BINARY,
  NATS_SERVER_INSTALL_HINT,
  natsServerInstalled,
} from './chains/jetstream-cluster.js';
import { JetStreamSystem } from './chains/jetstream-system.js';
import { MeshosChainsSystem } from './chains/meshos-system.js';
import { writeReportSection } from './cluster/report-section.js';
import { type BenchContext, type BenchSuite, machineDescription } from './harness.js';

/**
 * Replicated chains side by side with NATS JetStream: each system as 3 processes on loopback,
 * one at a time, a log with 3 replicas acknowledged by a quorum; closed-loop appends at 1, 16
 * and 64 clients, a read from the start, and the gap after kill -9 of the log's leader.
 * See docs/BENCHMARKS.md ("Replicated chains").
 */
const REPORT_FILE = path.join('docs', 'BENCHMARKS.md');
const REPORT_SECTION = 'chains';

function log(line: string): void {
  console.log(line);
}

function natsServerVersion(): string {
  const output = execFileSync(NATS_SERVER_BINARY, ['--version'], { encoding: 'utf8' });
  return /v?(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? output.trim();
}

/** Why `system` cannot run here, or undefined when it can. */
function unavailable(system: ChainsBenchSystem): string | undefined {
  if (system === 'jetstream') return natsServerInstalled() ? undefined : NATS_SERVER_INSTALL_HINT;
  return undefined;
}

async function createSystem(system: ChainsBenchSystem): Promise<ChainsSystem> {
  if (system === 'jetstream') return JetStreamSystem.create(natsServerVersion());
  return MeshosChainsSystem.create();
}

function record(context: BenchContext, columns: readonly ChainsColumn[]): void {
  for (const column of columns) {
    for (const [metric, values] of column.values) {
      const unit = /\((.+)\)$/.exec(metric)?.[1] ?? '';
      context.record({
        metric: `${column.label} ${metric}`,
        median: measuredMedian(values),
        unit,
        samples: values.length,
      });
    }
  }
}

function reportMarkdown(
  settings: ChainsBenchSettings,
  columns: readonly ChainsColumn[],
  systems: readonly ChainsSystem[],
  skipped: readonly string[],
  loadAverages: readonly string[],
): string {
  const reference = columns.find((column) => column.system.startsWith('JetStream'));
  const modes = systems.flatMap((system) =>
    [...system.syncModes].map(([mode, meaning]) => `- ${system.label}, \`${mode}\`: ${meaning}.`),
  );
  return [
    `Run ${new Date().toISOString()} on ${machineDescription()}, ${os.type()} ${os.release()}; ${settings.runs} round(s) per system; one-minute load average before each: ${loadAverages.join('; ')}.`,
    '',
    renderChainsTable(columns, reference),
    ...settings.notes.map((note) => `Note: ${note}`),
    ...(settings.notes.length > 0 ? [''] : []),
    'Sync modes measured:',
    ...modes,
    ...skipped.map((reason) => `- Not measured: ${reason}.`),
    '',
    `Method: each round starts each system fresh (3 processes on 127.0.0.1, temporary folders on the same disk), systems alternating between rounds; a log with 3 replicas per sync mode, acknowledged by a quorum. Appends: ${RECORD_BYTES}-byte records, closed loop (each client keeps one append in flight), clients ${APPEND_CLIENTS.join(', ')} each for ${settings.loadDurationMs / 1000} s or ${MAX_APPENDS_PER_LOAD.toLocaleString('en-US')} appends after a 1 s warm-up at 16 clients, the clients sharing ${APPENDER_CONNECTIONS_PER_MEMBER} connection per member (so spread evenly over the 3 members; more connections made JetStream's client slower here; MeshOS's client sends the appends made in one turn on a connection as one message on its append stream, each answered with its own offsets). Read: one reader from the first record to the last written (at most ${READ_MAX_RECORDS.toLocaleString('en-US')} records or ${READ_MAX_MS / 1000} s), consumer setup included. Failover: ${FAILOVER_CLIENTS} clients appending with a 1 s deadline per append; the log's leader is killed with SIGKILL; the gap runs from the kill to the first acknowledged append sent after it. Figures are medians over rounds (each round's value in brackets).`,
    '',
  ].join('\n');
}

export const suite: BenchSuite = {
  name: 'chains',
  async run(context) {
    const settings = chainsBenchSettings(process.argv.slice(2));
    const rounds: RoundFigures[] = [];
    const systems: ChainsSystem[] = [];
    const skipped: string[] = [];
    const loadAverages: string[] = [];
    const runnable: ChainsBenchSystem[] = [];
    for (const name of settings.systems) {
      const reason = unavailable(name);
      if (reason === undefined) runnable.push(name);
      else {
        console.error(`chains bench: ${reason}`);
        skipped.push(reason);
      }
    }
    if (runnable.length === 0) {
      process.exitCode = 1;
      return;
    }
    for (let round = 0; round < settings.runs; round++) {
      const order = round % 2 === 0 ? [...runnable] : [...runnable].reverse();
      for (const name of order) {
        loadAverages.push(`${name} round ${round + 1}: ${os.loadavg()[0]?.toFixed(2) ?? '?'}`);
        log(`round ${round + 1}/${settings.runs}: ${name}`);
        const system = await createSystem(name);
        try {
          rounds.push(await runChainsRound(system, settings.loadDurationMs, log));
          if (round === 0) systems.push(system);
        } catch (error) {
          if (!(error instanceof SystemUnavailableError)) throw error;
          const reason = `${system.label} skipped: ${error.message}`;
          console.error(`chains bench: ${reason}`);
          skipped.push(reason);
          runnable.splice(runnable.indexOf(name), 1);
        }
      }
    }
    if (rounds.length === 0) {
      process.exitCode = 1;
      return;
    }
    const columns = chainsColumns(rounds);
    record(context, columns);
    const markdown = reportMarkdown(settings, columns, systems, skipped, loadAverages);
    log(`\n${markdown}`);
    if (settings.report) {
      writeReportSection(REPORT_FILE, REPORT_SECTION, markdown);
      log(`written to the '${REPORT_SECTION}' section of ${REPORT_FILE}`);
    }
  },
};
