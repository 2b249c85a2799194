/**
 * Where one client's append round trip goes, stage by stage (`node dist/bench/chains/append-stages.js
 * [--appends=N] [--sync=interval|batch] [--clients=N --seconds=S]`): three `meshos start` processes and this load generator,
 * each loaded with `stage-trace.js`, one client making N sequential appends to a chain of 3
 * replicas (acks quorum) led by member 0. Every process records when each append reached each
 * stage; the stages are joined across processes by the stream's request id and the record's
 * offset, and the table gives each step's p50 / p90 in microseconds: the client's call and
 * stream write, the gRPC hop, the node's handler, the leader's group commit and push, the peer
 * link's write, the follower's log write and acknowledgement, the commit and the answer's way
 * back. Cross-process steps use the wall clock all processes share.
 *
 * `--clients=N` (N > 1) runs N closed-loop clients for `--seconds` instead, spread over one
 * `MeshClient` per member as in the chains bench (so most appends are forwarded), and takes each
 * of the leader's group commits as a round: the leader's sync, the push, each follower's
 * receive, sync and acknowledgement, the commit; and each member's syncs per second and their
 * durations.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MeshClient } from '../../src/client/index.js';
import { MeshosCluster } from '../cluster/meshos-cluster.js';
import { sleep } from '../cluster/processes.js';
import { wholeNumberFlag } from '../flags.js';
import { percentile } from '../harness.js';
import { recordPayload } from './append-load.js';
import {
  markStage,
  STAGE_TRACE_DIRECTORY_VARIABLE,
  type StageEvent,
  writeStageEvents,
} from './stage-trace.js';

const CHAIN = 'append-stages';
const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 5_000;
const INTERVAL_SYNC_MS = 1_000;
const WARMUP_APPENDS = 300;
const DEFAULT_APPENDS = 2_000;
/** How long the members get to write their events after SIGUSR2. */
const WRITE_WAIT_MS = 1_500;
/** Clocks of processes on one machine agree to well under this. */
const CLOCK_SLACK_MICROS = 50;

/** One process's events by stage, in time order. */
type Stages = Map<string, StageEvent[]>;

function byStage(events: readonly StageEvent[]): Stages {
  const stages: Stages = new Map();
  for (const event of events) {
    const list = stages.get(event[1]) ?? [];
    list.push(event);
    stages.set(event[1], list);
  }
  return stages;
}

function list(stages: Stages, stage: string): StageEvent[] {
  return stages.get(stage) ?? [];
}

/** The first event at or after `fromMicros` that `matches`. */
function firstAfter(
  events: readonly StageEvent[],
  fromMicros: number,
  matches: (event: StageEvent) => boolean = () => true,
): StageEvent | undefined {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((events[middle] as StageEvent)[0] < fromMicros) low = middle + 1;
    else high = middle;
  }
  for (let index = low; index < events.length; index++) {
    if (matches(events[index] as StageEvent)) return events[index];
  }
  return undefined;
}

const covers = (offset: number) => (event: StageEvent) =>
  (event[3] as number) <= offset && offset < (event[3] as number) + ((event[4] as number) ?? 0);

class StageTable {
  private readonly samples = new Map<string, number[]>();

  add(step: string, fromMicros: number | undefined, toMicros: number | undefined): void {
    if (fromMicros === undefined || toMicros === undefined) return;
    const samples = this.samples.get(step) ?? [];
    samples.push(toMicros - fromMicros);
    this.samples.set(step, samples);
  }

  print(): void {
    console.log('| step | p50 (µs) | p90 (µs) | samples |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [step, samples] of this.samples) {
      samples.sort((a, b) => a - b);
      console.log(
        `| ${step} | ${percentile(samples, 0.5).toFixed(0)} | ${percentile(samples, 0.9).toFixed(0)} | ${samples.length} |`,
      );
    }
  }
}

/** Joins the client's appends with the leader's and the followers' stages. */
function stageTable(client: Stages, leader: Stages, followers: readonly Stages[]): StageTable {
  const table = new StageTable();
  const taken = new Map(list(leader, 'node-takes').map((event) => [event[2], event[0]]));
  const appended = new Map(list(leader, 'leader-appends').map((event) => [event[2], event[0]]));
  const answered = new Map(list(leader, 'node-answers').map((event) => [event[3], event[0]]));
  const readBack = new Map(list(client, 'client-reads-answer').map((event) => [event[2], event[0]]));
  const resolved = list(client, 'append-resolved');
  for (const [index, called] of list(client, 'append-called').entries()) {
    const done = resolved[index];
    if (done === undefined) break;
    const offset = done[2] as number;
    const sent = firstAfter(list(client, 'client-sends'), called[0]);
    const id = String(sent?.[2]);
    const takenAt = taken.get(id);
    const appendedAt = appended.get(offset);
    table.add('client: append called -> written to its stream', called[0], sent?.[0]);
    table.add('gRPC: client stream write -> the leader node takes it', sent?.[0], takenAt);
    table.add('leader node: takes it -> leader append', takenAt, appendedAt);
    if (appendedAt === undefined) continue;
    table.add(
      'leader: append -> its log write (writer, next microtasks)',
      appendedAt,
      firstAfter(list(leader, 'log-writes'), appendedAt)?.[0],
    );
    table.add(
      'leader: append -> group commit (end of turn)',
      appendedAt,
      firstAfter(list(leader, 'leader-group-commit'), appendedAt)?.[0],
    );
    const pushes = list(leader, 'leader-pushes').filter(
      (event) => event[0] >= appendedAt && covers(offset)(event),
    );
    // The follower whose acknowledgement came back first commits the append.
    let first: { push: StageEvent; ack: StageEvent; follower?: Stages } | undefined;
    for (const push of pushes) {
      const ack = firstAfter(
        list(leader, 'receives-appendAck'),
        push[0],
        (event) => event[2] === push[2] && (event[3] as number) > offset,
      );
      if (ack !== undefined && (first === undefined || ack[0] < first.ack[0])) first = { push, ack };
    }
    if (first !== undefined) {
      const { push, ack } = first;
      const written = firstAfter(list(leader, 'link-writes'), push[0], (event) => event[2] === push[2]);
      table.add('leader: push -> written to the peer link', push[0], written?.[0]);
      const from = (written?.[0] ?? push[0]) - CLOCK_SLACK_MICROS;
      for (const follower of followers) {
        const received = firstAfter(list(follower, 'receives-append'), from, covers(offset));
        if (received === undefined || received[0] > ack[0]) continue;
        const owed = firstAfter(
          list(follower, 'follower-owes-ack'),
          received[0],
          (event) => (event[3] as number) > offset,
        );
        const ackWritten =
          owed === undefined ? undefined : firstAfter(list(follower, 'link-writes'), owed[0]);
        if (ackWritten === undefined || ackWritten[0] > ack[0] + CLOCK_SLACK_MICROS) continue;
        table.add('peer link: leader write -> follower receives the push', written?.[0], received[0]);
        table.add('follower: receives -> acknowledgement owed (log write)', received[0], owed?.[0]);
        table.add('follower: ack owed -> written to the peer link (durable)', owed?.[0], ackWritten[0]);
        table.add('peer link: follower write -> leader receives the ack', ackWritten[0], ack[0]);
        break;
      }
      const committed = firstAfter(
        list(leader, 'leader-commits'),
        ack[0],
        (event) => (event[2] as number) > offset,
      );
      table.add('leader: ack -> commit', ack[0], committed?.[0]);
      table.add('leader: commit -> answer handed to its stream', committed?.[0], answered.get(offset));
    }
    table.add('gRPC: answer handed to the stream -> client reads it', answered.get(offset), readBack.get(id));
    table.add('client: reads the answer -> append resolves', readBack.get(id), done[0]);
    table.add('whole append (client call -> resolved)', called[0], done[0]);
  }
  return table;
}

/** p50 / p90 of each named duration, in µs. */
function printDurations(title: string, durations: Map<string, number[]>): void {
  console.log(`\n${title}\n`);
  console.log('| step | p50 (µs) | p90 (µs) | samples |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [step, samples] of durations) {
    samples.sort((a, b) => a - b);
    console.log(
      `| ${step} | ${percentile(samples, 0.5).toFixed(0)} | ${percentile(samples, 0.9).toFixed(0)} | ${samples.length} |`,
    );
  }
}

function within(events: readonly StageEvent[], fromMicros: number, toMicros: number): StageEvent[] {
  return events.filter((event) => event[0] >= fromMicros && event[0] <= toMicros);
}

/**
 * Many clients: each leader group commit is a round's start; where the round's time goes
 * (the leader's sync, the push, each follower's receive, sync and acknowledgement, the commit,
 * then the clients' way back to the next group commit), and what each member's syncs cost.
 */
function roundTable(
  leaderId: number,
  leader: Stages,
  followers: ReadonlyMap<number, Stages>,
  fromMicros: number,
  toMicros: number,
): void {
  const rounds = new Map<string, number[]>();
  const add = (step: string, from: number | undefined, to: number | undefined): void => {
    if (from === undefined || to === undefined) return;
    const list = rounds.get(step) ?? [];
    list.push(to - from);
    rounds.set(step, list);
  };
  const commits = within(list(leader, 'leader-group-commit'), fromMicros, toMicros);
  const sizes: number[] = [];
  let syncInFlight = 0;
  for (const [index, commit] of commits.entries()) {
    const at = commit[0];
    const end = commit[2] as number;
    const previousEnd = (commits[index - 1]?.[2] as number | undefined) ?? end;
    if (index > 0) sizes.push(end - previousEnd);
    const syncStart = firstAfter(list(leader, 'log-syncs'), at);
    const synced = syncStart === undefined ? undefined : firstAfter(list(leader, 'log-synced'), syncStart[0]);
    const lastStartBefore = list(leader, 'log-syncs')
      .filter((event) => event[0] < at)
      .at(-1);
    const lastEndBefore = list(leader, 'log-synced')
      .filter((event) => event[0] < at)
      .at(-1);
    if (
      lastStartBefore !== undefined &&
      (lastEndBefore === undefined || lastEndBefore[0] < lastStartBefore[0])
    )
      syncInFlight++;
    add('leader: group commit -> its sync starts', at, syncStart?.[0]);
    add('leader: its fdatasync', syncStart?.[0], synced?.[0]);
    add('leader: group commit -> its sync done', at, synced?.[0]);
    let firstAck: number | undefined;
    for (const [node, follower] of followers) {
      const push = firstAfter(
        list(leader, 'leader-pushes'),
        at,
        (event) => event[2] === node && covers(end - 1)(event),
      );
      if (push === undefined) continue;
      const written = firstAfter(list(leader, 'link-writes'), push[0], (event) => event[2] === node);
      const received = firstAfter(
        list(follower, 'receives-append'),
        (written?.[0] ?? push[0]) - CLOCK_SLACK_MICROS,
        covers(end - 1),
      );
      const ack = firstAfter(
        list(leader, 'receives-appendAck'),
        push[0],
        (event) => event[2] === node && (event[3] as number) >= end,
      );
      if (received === undefined || ack === undefined) continue;
      const followerSync = firstAfter(list(follower, 'log-syncs'), received[0]);
      const followerSynced =
        followerSync === undefined ? undefined : firstAfter(list(follower, 'log-synced'), followerSync[0]);
      const ackWritten =
        followerSynced === undefined
          ? undefined
          : firstAfter(list(follower, 'link-writes'), followerSynced[0], (event) => event[2] === leaderId);
      add('leader: group commit -> push written', at, written?.[0]);
      add('peer link: push written -> follower receives', written?.[0], received[0]);
      add('follower: receives -> its sync starts', received[0], followerSync?.[0]);
      add('follower: its fdatasync', followerSync?.[0], followerSynced?.[0]);
      add('follower: sync done -> ack written', followerSynced?.[0], ackWritten?.[0]);
      add('peer link: ack written -> leader receives', ackWritten?.[0], ack[0]);
      add('leader: group commit -> this follower acks', at, ack[0]);
      if (firstAck === undefined || ack[0] < firstAck) firstAck = ack[0];
    }
    add('leader: group commit -> first follower ack', at, firstAck);
    const committed = firstAfter(list(leader, 'leader-commits'), at, (event) => (event[2] as number) >= end);
    add('leader: group commit -> commit', at, committed?.[0]);
    const next = commits[index + 1];
    add('commit -> next group commit (answers, clients, forwarding)', committed?.[0], next?.[0]);
    add('round: group commit -> next group commit', at, next?.[0]);
  }
  // Each append from the leader taking it to its commit (the rest of a client's wait is outside).
  for (const appended of within(list(leader, 'leader-appends'), fromMicros, toMicros)) {
    const offset = appended[2] as number;
    const taken = firstAfter(list(leader, 'leader-group-commit'), appended[0]);
    const committed = firstAfter(
      list(leader, 'leader-commits'),
      appended[0],
      (event) => (event[2] as number) > offset,
    );
    add('an append: leader takes it -> its group commit', appended[0], taken?.[0]);
    add('an append: leader takes it -> committed', appended[0], committed?.[0]);
  }
  sizes.sort((a, b) => a - b);
  console.log(
    `\n${commits.length} group commits, records each p50 ${percentile(sizes, 0.5)} p90 ${percentile(sizes, 0.9)}; a sync of the leader's was in flight at ${syncInFlight} of them`,
  );
  printDurations('Rounds (each leader group commit), µs:', rounds);
  const seconds = (toMicros - fromMicros) / 1e6;
  console.log('\n| member | syncs/s | fdatasync p50 / p90 (µs) | group commits or acks owed /s |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, stages] of [
    ['leader', leader] as const,
    ...[...followers].map(([node, stages]) => [`follower ${node}`, stages] as const),
  ]) {
    const starts = within(list(stages, 'log-syncs'), fromMicros, toMicros);
    const durations = starts
      .map((start) => firstAfter(list(stages, 'log-synced'), start[0]))
      .map((end, position) => (end === undefined ? undefined : end[0] - (starts[position] as StageEvent)[0]))
      .filter((value): value is number => value !== undefined)
      .sort((a, b) => a - b);
    const batches = within(
      list(stages, name === 'leader' ? 'leader-group-commit' : 'follower-owes-ack'),
      fromMicros,
      toMicros,
    ).length;
    console.log(
      `| ${name} | ${(starts.length / seconds).toFixed(0)} | ${percentile(durations, 0.5).toFixed(0)} / ${percentile(durations, 0.9).toFixed(0)} | ${(batches / seconds).toFixed(0)} |`,
    );
  }
}

/** `clients` closed-loop clients spread over one `MeshClient` per member, as the chains bench. */
async function runClients(endpoints: readonly string[], clients: number, seconds: number): Promise<number> {
  const latencies: number[] = [];
  const meshClients = await Promise.all(
    endpoints.map((endpoint) => MeshClient.connect({ endpoints: [endpoint], discoverLeader: false })),
  );
  let acknowledged = 0;
  const deadline = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, index) => {
        const client = meshClients[index % meshClients.length] as MeshClient;
        for (let counter = 0; performance.now() < deadline; counter++) {
          const calledAt = performance.now();
          await client.chains.append(CHAIN, recordPayload(index + 2, counter), {
            timeoutMs: CALL_TIMEOUT_MS,
          });
          latencies.push((performance.now() - calledAt) * 1000);
          acknowledged++;
        }
      }),
    );
  } finally {
    for (const client of meshClients) client.close();
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `client: an append's whole wait p50 ${percentile(latencies, 0.5).toFixed(0)} µs, p90 ${percentile(latencies, 0.9).toFixed(0)} µs`,
  );
  return acknowledged;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      appends: { type: 'string' },
      sync: { type: 'string' },
      clients: { type: 'string' },
      seconds: { type: 'string' },
    },
  });
  const appends = wholeNumberFlag('appends', values.appends, DEFAULT_APPENDS, 10, 100_000);
  const clients = wholeNumberFlag('clients', values.clients, 1, 1, 256);
  const seconds = wholeNumberFlag('seconds', values.seconds, 3, 1, 60);
  const sync = values.sync ?? 'interval';
  if (sync !== 'interval' && sync !== 'batch') throw new Error(`--sync takes interval or batch, got ${sync}`);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'append-stages-'));
  process.env[STAGE_TRACE_DIRECTORY_VARIABLE] = directory;
  const preload = fileURLToPath(new URL('./stage-trace.js', import.meta.url));
  const cluster = await MeshosCluster.create({ nodeFlags: () => ['--import', preload] });
  try {
    await cluster.start(START_TIMEOUT_MS);
    const client = await MeshClient.connect({ endpoints: [cluster.endpoints[0]!], discoverLeader: false });
    for (const deadline = Date.now() + START_TIMEOUT_MS; ; ) {
      try {
        await client.chains.create(CHAIN, {
          replicas: 3,
          acks: 'quorum',
          sync: sync === 'batch' ? { mode: 'batch' } : { mode: 'interval', intervalMs: INTERVAL_SYNC_MS },
          timeoutMs: CALL_TIMEOUT_MS,
        });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    for (let counter = 0; counter < WARMUP_APPENDS; counter++) {
      await client.chains.append(CHAIN, recordPayload(0, counter), { timeoutMs: CALL_TIMEOUT_MS });
    }
    const loadStartMicros = (performance.timeOrigin + performance.now()) * 1000;
    const startedAt = performance.now();
    let done = 0;
    if (clients > 1) done = await runClients(cluster.endpoints, clients, seconds);
    for (let counter = 0; clients === 1 && counter < appends; counter++) {
      markStage('append-called', counter);
      const result = await client.chains.append(CHAIN, recordPayload(1, counter), {
        timeoutMs: CALL_TIMEOUT_MS,
      });
      markStage('append-resolved', result.firstOffset);
      done++;
    }
    const elapsedMs = performance.now() - startedAt;
    const loadEndMicros = (performance.timeOrigin + performance.now()) * 1000;
    const pids = [0, 1, 2].map((index) => cluster.pid(index));
    client.close();
    for (let index = 0; index < 3; index++) {
      const pid = cluster.pid(index);
      if (pid !== undefined) process.kill(pid, 'SIGUSR2');
    }
    writeStageEvents();
    await sleep(WRITE_WAIT_MS);
    const processes = await Promise.all(
      (await readdir(directory)).map(async (file) => ({
        file,
        stages: byStage(JSON.parse(await readFile(path.join(directory, file), 'utf8')) as StageEvent[]),
      })),
    );
    const clientStages = processes.find((entry) => entry.file.startsWith('client'))?.stages;
    const memberEntries = processes.filter((entry) => entry.file.startsWith('member'));
    const members = memberEntries.map((entry) => entry.stages);
    const leader = members.find((stages) => list(stages, 'leader-appends').length > 0);
    if (clientStages === undefined || leader === undefined) throw new Error('no client or leader events');
    console.log(
      `append stages: ${done} appends from ${clients} client(s), ${sync} sync, ${((done * 1000) / elapsedMs).toFixed(0)} appends/s, one-minute load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    if (clients > 1) {
      // Node ids are the members' indexes plus one; the event files are named by process id.
      const byNode = new Map<number, Stages>();
      for (const entry of memberEntries) {
        const index = pids.findIndex((pid) => pid !== undefined && entry.file === `member-${pid}.json`);
        if (index >= 0) byNode.set(index + 1, entry.stages);
      }
      const leaderId = [...byNode].find(([, stages]) => stages === leader)?.[0] ?? 1;
      byNode.delete(leaderId);
      roundTable(leaderId, leader, byNode, loadStartMicros, loadEndMicros);
      return;
    }
    stageTable(
      clientStages,
      leader,
      members.filter((stages) => stages !== leader),
    ).print();
  } finally {
    await cluster.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
