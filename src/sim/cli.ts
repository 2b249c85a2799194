import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isMeshError, ValidationError } from '../lib/index.js';
import { historyLines } from './chain-history.js';
import { daemonHistoryLines } from './daemon-history.js';
import { FAULT_NAMES, type FaultName, parseFaultList } from './fault-plan.js';
import { checkHistory, formatHistory, parseHistory } from './linearizability/index.js';
import { parseDaemonGroups, type SimDaemonGroup } from './sim-daemon-plans.js';
import type { UnsafeMemberReads } from './sim-daemons.js';
import { DEFAULT_STEPS, runSimulation, type SimulationOptions, type SimulationResult } from './simulation.js';

/** Trace lines kept when replaying one seed (the batch run keeps fewer). */
const REPLAY_TRACE_LINES = 1_000_000;
/** A progress line at least this often, in seeds. */
const PROGRESS_EVERY_SEEDS = 10;
const ARTIFACT_DIRECTORY = path.join('artifacts', 'sim');
/** Smallest cluster the fault model fits: a minority that may crash or be cut off. */
const MIN_NODES = 3;

const USAGE = `usage: npm run sim -- [--seeds N] [--first-seed F] [--seed S] [--steps K] [--faults LIST]
                      [--nodes 3|5] [--chains] [--unsafe-commit] [--unsafe-reads] [--lying-disk]
                      [--unsafe-chain-acks] [--daemons] [--daemon-groups LIST] [--unsafe-daemon-dedup]
                      [--unsafe-daemon-epochs] [--silent-loss] [--check-history FILE]
Runs the production node (RaftNode, NodeStateMachine, RaftKvBackend, the log store) over a
simulated clock, network and disks; with --chains, replicated chains beside it; with --daemons,
deployed daemons on those chains.
  --seeds N          run seeds F .. F+N-1 (default 100)
  --first-seed F     first seed of a batch (default 1)
  --seed S           replay exactly one seed, keeping its whole trace
  --steps K          events in each run's fault phase (default ${DEFAULT_STEPS})
  --faults LIST      comma list of fault knobs, or all / none (default all):
                     ${FAULT_NAMES.join(', ')}
  --nodes N          cluster size, at least ${MIN_NODES} (default: 3 or 5, drawn from the seed)
  --chains           also run chains (chain host, replicas on the disk log, appenders) with
                     the simulated Raft KV as their control plane, and check them
  --unsafe-commit    run the deliberately broken commit rule, one entry per append
                     (expect violations)
  --unsafe-reads     clients read serializably, skipping ReadIndex (expect violations)
  --lying-disk       disks acknowledge fsyncs without making writes durable (expect violations)
  --unsafe-chain-acks  chain replicas acknowledge appends alone, whatever the acks policy
                     (implies --chains; expect violations)
  --daemons          also run deployed daemons (the production daemons service, journal
                     standby groups, senders with retries) on the chains, and check them
  --daemon-groups LIST  the daemon group kinds deployed (implies --daemons): a comma list of
                     standby, replica, fork, or all (default standby: journal-a and journal-b;
                     replica adds journal-r, routed by key; fork adds journal-f, a fork of
                     journal-a at a point of its history)
  --unsafe-daemon-dedup   members apply events without their client id and sequence, so a
                     retry is applied again (implies --daemons; expect violations)
  --unsafe-daemon-epochs  members apply events as if all had one epoch, so a fenced old
                     active's appends are applied (implies --daemons; expect violations)
  --silent-loss      senders never learn of lost messages (no reportUnreachable)
  --check-history F  only check a JSON Lines history file for linearizability`;

interface CliOptions {
  readonly seeds: number;
  readonly firstSeed: number;
  readonly singleSeed: number | undefined;
  readonly steps: number;
  readonly faults: FaultName[];
  readonly nodeCount: number | undefined;
  readonly unsafeCommit: boolean;
  readonly unsafeReads: boolean;
  readonly lyingDisk: boolean;
  readonly silentLoss: boolean;
  readonly chains: boolean;
  readonly unsafeChainAcks: boolean;
  readonly daemons: boolean;
  readonly unsafeDaemonReads: UnsafeMemberReads | undefined;
  readonly daemonGroups: SimDaemonGroup[] | undefined;
  readonly checkHistoryFile: string | undefined;
}

function parseOptions(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seeds: { type: 'string' },
      'first-seed': { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      faults: { type: 'string' },
      nodes: { type: 'string' },
      'unsafe-commit': { type: 'boolean' },
      'unsafe-reads': { type: 'boolean' },
      'lying-disk': { type: 'boolean' },
      'silent-loss': { type: 'boolean' },
      chains: { type: 'boolean' },
      'unsafe-chain-acks': { type: 'boolean' },
      daemons: { type: 'boolean' },
      'unsafe-daemon-dedup': { type: 'boolean' },
      'unsafe-daemon-epochs': { type: 'boolean' },
      'daemon-groups': { type: 'string' },
      'check-history': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  const integer = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      problems.push(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
      return fallback;
    }
    return value;
  };
  const seeds = integer('seeds', values.seeds, 100, 1);
  const firstSeed = integer('first-seed', values['first-seed'], 1, 0);
  const singleSeed = values.seed === undefined ? undefined : integer('seed', values.seed, 0, 0);
  const steps = integer('steps', values.steps, DEFAULT_STEPS, 1);
  const nodeCount =
    values.nodes === undefined ? undefined : integer('nodes', values.nodes, MIN_NODES, MIN_NODES);
  let faults: FaultName[] = [...FAULT_NAMES];
  if (values.faults !== undefined) {
    try {
      faults = parseFaultList(values.faults);
    } catch (error) {
      if (error instanceof ValidationError) problems.push(...error.problems);
      else throw error;
    }
  }
  let daemonGroups: SimDaemonGroup[] | undefined;
  if (values['daemon-groups'] !== undefined) {
    try {
      daemonGroups = parseDaemonGroups(values['daemon-groups']);
    } catch (error) {
      if (error instanceof ValidationError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (values['unsafe-daemon-dedup'] === true && values['unsafe-daemon-epochs'] === true)
    problems.push('--unsafe-daemon-dedup and --unsafe-daemon-epochs break one rule each: choose one');
  if (problems.length > 0) throw new ValidationError('sim options', problems);
  const unsafeDaemonReads: UnsafeMemberReads | undefined =
    values['unsafe-daemon-dedup'] === true
      ? 'skip-dedup'
      : values['unsafe-daemon-epochs'] === true
        ? 'skip-epochs'
        : undefined;
  const daemons = values.daemons === true || unsafeDaemonReads !== undefined || daemonGroups !== undefined;
  return {
    seeds,
    firstSeed,
    singleSeed,
    steps,
    faults,
    nodeCount,
    unsafeCommit: values['unsafe-commit'] === true,
    unsafeReads: values['unsafe-reads'] === true,
    lyingDisk: values['lying-disk'] === true,
    silentLoss: values['silent-loss'] === true,
    chains: values.chains === true || values['unsafe-chain-acks'] === true || daemons,
    unsafeChainAcks: values['unsafe-chain-acks'] === true,
    daemons,
    unsafeDaemonReads,
    daemonGroups,
    checkHistoryFile: values['check-history'],
  };
}

function simulationOptions(options: CliOptions, seed: number, traceLines: number): SimulationOptions {
  return {
    seed,
    steps: options.steps,
    faults: options.faults,
    unsafeCommitByCountingOlderTerms: options.unsafeCommit,
    // The broken rule only shows when entries travel one per append (see docs/SIMULATION.md).
    ...(options.unsafeCommit ? { maxAppendBytes: 1 } : {}),
    unsafeLocalReads: options.unsafeReads,
    unsafeDiskIgnoresSyncs: options.lyingDisk,
    reportLostMessages: !options.silentLoss,
    chains: options.chains,
    unsafeChainAcks: options.unsafeChainAcks,
    daemons: options.daemons,
    ...(options.unsafeDaemonReads === undefined ? {} : { unsafeDaemonReads: options.unsafeDaemonReads }),
    ...(options.daemonGroups === undefined ? {} : { daemonGroups: options.daemonGroups }),
    ...(options.nodeCount === undefined ? {} : { nodeCount: options.nodeCount }),
    traceLines,
  };
}

function writeArtifacts(result: SimulationResult): string {
  const directory = path.join(ARTIFACT_DIRECTORY, `seed-${result.seed}`);
  mkdirSync(directory, { recursive: true });
  writeFileSync(path.join(directory, 'trace.txt'), result.trace.text());
  writeFileSync(path.join(directory, 'history.jsonl'), formatHistory(result.history));
  if (result.chains !== undefined)
    writeFileSync(path.join(directory, 'chain-history.jsonl'), historyLines(result.chains.history));
  if (result.daemons !== undefined)
    writeFileSync(path.join(directory, 'daemon-history.jsonl'), daemonHistoryLines(result.daemons.history));
  return directory;
}

function describeFailure(result: SimulationResult): string {
  return `seed=${result.seed} FAILED ${result.violation?.invariant}: ${result.violation?.message}`;
}

function checkHistoryFile(file: string): number {
  const history = parseHistory(readFileSync(file, 'utf8'));
  const result = checkHistory(history, { timeBudgetMs: 60_000, nowMs: () => performance.now() });
  console.log(`history ${file}: ${history.length} operations, verdict ${result.verdict}`);
  for (const key of result.keys)
    console.log(
      `  key ${JSON.stringify(key.key)}: ${key.verdict} (${key.operations} ops, ${key.steps} steps)`,
    );
  if (result.counterexample !== undefined) console.log(result.counterexample);
  return result.verdict === 'illegal' ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.checkHistoryFile !== undefined) return checkHistoryFile(options.checkHistoryFile);
  const seeds =
    options.singleSeed !== undefined
      ? [options.singleSeed]
      : Array.from({ length: options.seeds }, (_, offset) => options.firstSeed + offset);
  const replay = options.singleSeed !== undefined;
  let events = 0;
  let commits = 0;
  let chainAcknowledged = 0;
  let daemonAcknowledged = 0;
  let daemonFailovers = 0;
  let violations = 0;
  let unknown = 0;
  const failedSeeds: number[] = [];
  const faultTotals = new Map<string, number>();
  const startedMs = performance.now();
  for (let position = 0; position < seeds.length; position++) {
    const seed = seeds[position]!;
    const result = await runSimulation(simulationOptions(options, seed, replay ? REPLAY_TRACE_LINES : 0));
    events += result.events;
    commits += result.commits;
    chainAcknowledged += result.chains?.acknowledgedValues ?? 0;
    daemonAcknowledged += result.daemons?.acknowledgedEvents ?? 0;
    daemonFailovers += (result.daemons?.highestEpoch ?? 1) - 1;
    for (const [name, count] of Object.entries(result.faultCounts))
      faultTotals.set(name, (faultTotals.get(name) ?? 0) + count);
    if (result.linearizability?.verdict === 'unknown') unknown++;
    if (replay) {
      console.log(
        `seed=${seed} nodes=${result.nodeCount} events=${result.events} commits=${result.commits} simulated=${(result.simulatedUs / 1e6).toFixed(2)}s trace=${result.traceDigest} linearizability=${result.linearizability?.verdict ?? 'not checked'}`,
      );
      if (result.chains !== undefined)
        console.log(
          `chains: ${result.chains.chains.map((chain) => `${chain.name} acks=${chain.acks} replicas=${chain.replicas.join(',')}`).join('; ')}; acknowledged=${result.chains.acknowledgedValues} highest epoch=${result.chains.highestEpoch} committed offsets compared=${result.chains.committedOffsetsCompared}`,
        );
    }
    if (replay && result.daemons !== undefined) {
      const daemons = result.daemons;
      console.log(
        `daemons: ${daemons.daemons.join(', ')}; events acknowledged=${daemons.acknowledgedEvents} unknown=${daemons.unknownEvents} failed=${daemons.failedEvents}; highest epoch=${daemons.highestEpoch} active strikes=${daemons.activeStrikes} outcomes compared=${daemons.outcomesCompared} fenced=${daemons.fencedEvents} replica members checked=${daemons.replicaMembersChecked} fork prefix events=${daemons.forkPrefixEvents}`,
      );
    }
    if (result.violation !== undefined) {
      violations++;
      failedSeeds.push(seed);
      // Batch runs keep no trace lines (faster); the seed is replayed to get the whole trace.
      const full = replay
        ? result
        : await runSimulation(simulationOptions(options, seed, REPLAY_TRACE_LINES));
      if (full.traceDigest !== result.traceDigest) {
        console.log(
          `seed=${seed} replay diverged (trace ${result.traceDigest} then ${full.traceDigest}): nondeterminism`,
        );
      }
      const directory = writeArtifacts(full);
      console.log(describeFailure(result));
      console.log(`  trace and history written to ${directory}`);
    }
    if ((position + 1) % PROGRESS_EVERY_SEEDS === 0 && position + 1 < seeds.length) {
      const seconds = (performance.now() - startedMs) / 1000;
      console.log(
        `progress: ${position + 1}/${seeds.length} seeds, events=${events}, violations=${violations}, ${Math.round(events / seconds)} events/s`,
      );
    }
  }
  const seconds = (performance.now() - startedMs) / 1000;
  console.log(
    `faults injected: ${[...faultTotals].map(([name, count]) => `${name}=${count}`).join(' ')}; linearizability unknown=${unknown}; ${seconds.toFixed(1)} s`,
  );
  const chainPart = options.chains ? ` chain-acks=${chainAcknowledged}` : '';
  const daemonPart = options.daemons
    ? ` daemon-acks=${daemonAcknowledged} daemon-epochs-beyond-first=${daemonFailovers}`
    : '';
  console.log(
    `seeds=${seeds.length} events=${events} commits=${commits}${chainPart}${daemonPart} violations=${violations}`,
  );
  for (const seed of failedSeeds) console.log(`seed=${seed}`);
  return violations > 0 ? 1 : 0;
}

try {
  // Exit explicitly: a run stopped for a busy loop leaves that loop spinning in the process.
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  if (isMeshError(error) || (error instanceof Error && error.name === 'TypeError' && 'code' in error)) {
    console.error(error.message);
    console.error(USAGE);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
