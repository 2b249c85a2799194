/**
 * The reconcile service on real processes (docs/RECONCILE.md):
 *
 * - four voters started with `--daemon-repair-grace-ms 1000`, three `journal` standby groups of
 *   3 members (so every node runs members), 4 senders on one of them through the nodes that
 *   stay up, and the node holding the reconciler lease killed with -9: another node takes the
 *   lease (a later term) and re-places every member the killed node ran and every replica of the
 *   daemons' chains it held (`--chain-repair-grace-ms 1000`: a learner, then promoted); each
 *   daemon ends with 3 healthy members on live nodes, the one sent to synced, and the journals
 *   hold every acknowledged event once, each sender's in order;
 * - three voters given a `--daemon-module` whose kind throws when a member starts: the member's
 *   crashes are backed off (each restart at least 500 ms x 2^(n-1) after the crash before) and
 *   the fifth crash in 60 s puts it in the 5-minute cooldown the reconciler commits;
 * - the same with a kind that crashes in `process` on `boom...` events: each crash fails its
 *   event and stops the member, which takes events again only once the reconciler restarted it
 *   after its backoff, with every applied event in its state once and no failed one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../src/cli/admin-json.js';
import { inboundChainName, outputChainName } from '../../src/daemons/chain-names.js';
import { decodeJournalState } from '../../src/daemons/index.js';
import { CRASH_LOOP_COOLDOWN_MS, CRASH_LOOP_CRASHES } from '../../src/reconcile/index.js';
import { journalProblems } from '../support/daemon-history.js';
import { until } from '../support/until.js';
import { nanosecondsNow } from './chain-appenders.js';
import { clientOf, eventually, firstChainStatus } from './chain-cluster.js';
import {
  type DaemonCluster,
  everyMemberSynced,
  startDaemonCluster,
  textOf,
  writeSendHistory,
} from './daemon-cluster.js';
import { DaemonSenders, REPAIR_TEST_LOAD } from './daemon-senders.js';
import { RawKvClient } from './raw-client.js';
import { RawDaemonsError } from './raw-daemons-client.js';

const DAEMONS = ['ledger-a', 'ledger-b', 'ledger-c'];
const SENT_TO = 'ledger-a';
const REPAIR_GRACE_MS = 1_000;
const CALL_TIMEOUT_MS = 5_000;
/** The committed cooldown may end this much before the pure one (clocks read a moment apart); far above an 8 s backoff. */
const COOLDOWN_SLACK_MS = 1_000;
const CLUSTER_TIMEOUT_MS = 90_000;
const ACKS_BEFORE_KILL = 40;
const ACKS_AFTER_REPAIR = 40;
const ROOT = '/meshos/v1/';

const CRASHING_MODULE = `export const crashing = {
  name: 'crashing',
  create() {
    throw new Error('this kind refuses to start');
  },
};
`;

/** A journal of text entries whose `process` throws a plain Error on a payload `boom...`. */
const FRAGILE_MODULE = `export const fragile = {
  name: 'fragile',
  create(config, context) {
    let entries = [];
    return {
      name: context.daemonName,
      process(event) {
        const text = new TextDecoder().decode(event.payload);
        if (text.startsWith('boom')) throw new Error('this kind breaks on ' + text);
        entries.push(text);
        return [];
      },
      snapshot() { return new TextEncoder().encode(JSON.stringify(entries)); },
      restore(state) { entries = state.length === 0 ? [] : JSON.parse(new TextDecoder().decode(state)); },
      health() { return { status: 'healthy' }; },
      saturation() { return 0; },
      onControl() {},
    };
  },
};
`;
/** A send while the member may be backed off: short, and retried. */
const SHORT_SEND_TIMEOUT_MS = 1_000;

interface ReconcileView {
  readonly holding: boolean;
  readonly epoch?: number;
  readonly passes: number;
  readonly terms: number;
  readonly failed: Readonly<Record<string, number>>;
  readonly completed: Readonly<Record<string, number>>;
  readonly members?: readonly {
    name: string;
    running: boolean;
    crashes: number;
    crashTimesWallMs: number[];
  }[];
}

async function reconcileView(admin: string): Promise<ReconcileView | undefined> {
  const status = await fetchStatus(admin, 1_000);
  return status?.reconcile as ReconcileView | undefined;
}

/** Deploys `daemon`; one a retried deploy finds there already (the first answer was lost) counts. */
async function deployed(
  mesh: DaemonCluster,
  via: number,
  daemon: string,
  kind: string,
  group: 'GROUP_SINGLE' | 'GROUP_STANDBY',
  members: number,
): Promise<true> {
  try {
    await mesh.client(via).deploy(daemon, kind, group, members, CALL_TIMEOUT_MS);
  } catch (error) {
    if (!String(error).includes('DAEMON_EXISTS')) throw error;
  }
  return true;
}

async function holderOf(mesh: DaemonCluster, nodes: readonly number[]): Promise<number | undefined> {
  for (const id of nodes) {
    if ((await reconcileView(mesh.cluster.plan(id).admin))?.holding === true) return id;
  }
  return undefined;
}

describe('the reconcile service on processes', () => {
  let mesh: DaemonCluster | undefined;
  let directory: string | undefined;
  afterEach(async () => {
    await mesh?.stop();
    mesh = undefined;
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
    directory = undefined;
  });

  it('kill -9 of the reconciler node: another node takes the lease and re-places its members; no acknowledged event is lost', async () => {
    mesh = await startDaemonCluster(4, {
      nodeArguments: ['--daemon-repair-grace-ms', String(REPAIR_GRACE_MS)],
    });
    const { cluster, ids } = mesh;
    for (const daemon of DAEMONS)
      await eventually(`deploy ${daemon}`, () =>
        deployed(mesh!, ids[0]!, daemon, 'journal', 'GROUP_STANDBY', 3),
      );
    const holder = await eventually('a reconciler holder', () => holderOf(mesh!, ids), CLUSTER_TIMEOUT_MS);
    const firstEpoch = (await reconcileView(cluster.plan(holder).admin))!.epoch!;
    const before = new Map(
      await Promise.all(
        DAEMONS.map(
          async (daemon) => [daemon, (await mesh!.statusVia(daemon, ids, CALL_TIMEOUT_MS))!] as const,
        ),
      ),
    );
    const ran = DAEMONS.filter((daemon) =>
      before.get(daemon)!.members.some((member) => member.node === holder),
    );
    expect(ran.length).toBeGreaterThan(0);
    const survivors = ids.filter((id) => id !== holder);

    const senders = new DaemonSenders({
      endpoints: survivors.map((id) => cluster.plan(id).client),
      daemon: SENT_TO,
      ...REPAIR_TEST_LOAD,
    });
    let replacedMs = 0;
    try {
      await senders.awaitAcknowledged(ACKS_BEFORE_KILL, 'events before the kill', CLUSTER_TIMEOUT_MS);
      const killedAt = nanosecondsNow();
      await cluster.kill(holder);
      const repairedAt = await senders.awaitRepairThenAcknowledged(
        async () => {
          for (const daemon of DAEMONS)
            await mesh!.awaitStatus(
              daemon,
              survivors,
              `${daemon} whole on live nodes`,
              CLUSTER_TIMEOUT_MS,
              (status) =>
                status.members.length === 3 &&
                status.members.every((member) => member.node !== holder && member.healthy),
            );
        },
        ACKS_AFTER_REPAIR,
        CLUSTER_TIMEOUT_MS,
      );
      replacedMs = Math.round((repairedAt - killedAt) / 1e6);
    } finally {
      await senders.stop();
    }
    console.log(
      `kill -9 of reconciler node ${holder} (members of ${ran.join(', ')}) to every daemon whole on live nodes: ${replacedMs} ms; ${writeSendHistory('reconcile-kill', senders.operations)}`,
    );
    // The other daemons took no event: their chains end with an epoch marker no member applies.
    await mesh.awaitStatus(SENT_TO, survivors, `${SENT_TO} synced`, CLUSTER_TIMEOUT_MS, everyMemberSynced);
    // The daemons' chains held on the killed node were re-placed too: a learner added, then promoted.
    const clients = new Map(
      await Promise.all(survivors.map(async (id) => [id, await clientOf(cluster, id)] as const)),
    );
    try {
      for (const daemon of ran)
        for (const chain of [inboundChainName(daemon), outputChainName(daemon)])
          await until(
            async () => {
              const status = await firstChainStatus(clients, chain, survivors);
              return (
                status !== undefined &&
                status.replicas.length === 3 &&
                status.replicas.every((replica) => replica.node !== holder && replica.healthy) &&
                (status.learners ?? []).length === 0
              );
            },
            `chain ${chain} without node ${holder}`,
            CLUSTER_TIMEOUT_MS,
          );
    } finally {
      for (const client of clients.values()) client.close();
    }
    const next = await holderOf(mesh, survivors);
    expect(next).toBeDefined();
    expect((await reconcileView(cluster.plan(next!).admin))!.epoch).toBeGreaterThan(firstEpoch);
    // The survivors' reconcilers (the lease may have moved again) completed the re-placements: a
    // StartDaemon per member the node ran, a placement and an eviction per chain it held.
    const views = await Promise.all(survivors.map((id) => reconcileView(cluster.plan(id).admin)));
    const completed = (kind: string) => views.reduce((sum, view) => sum + (view?.completed[kind] ?? 0), 0);
    console.log(
      `reconciler views: ${JSON.stringify(views.map((view) => ({ holding: view?.holding, epoch: view?.epoch, terms: view?.terms, completed: view?.completed, failed: view?.failed })))}`,
    );
    expect(completed('StartDaemon')).toBeGreaterThanOrEqual(ran.length);
    expect(completed('RequestPlacement')).toBeGreaterThanOrEqual(2 * ran.length);
    expect(completed('RequestEviction')).toBeGreaterThanOrEqual(2 * ran.length);
    const journals = await Promise.all(
      [0, 1, 2].map(async (member) => {
        const state = await eventually(`member ${member}'s state`, () =>
          mesh!.client(survivors[member % survivors.length]!).state(SENT_TO, member, CALL_TIMEOUT_MS),
        );
        return decodeJournalState(state.state).map(textOf);
      }),
    );
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
    expect(journalProblems(senders.operations, journals[0]!)).toEqual([]);
  }, 300_000);

  /** Three voters given `source` as their `--daemon-module`, and `daemon` of `kind` deployed single: its node. */
  async function startWithModule(source: string, daemon: string, kind: string): Promise<number> {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-reconcile-'));
    const module = path.join(directory, `${kind}.mjs`);
    await writeFile(module, source);
    mesh = await startDaemonCluster(3, { nodeArguments: ['--daemon-module', module] });
    await eventually('deploy', () => deployed(mesh!, mesh!.ids[0]!, daemon, kind, 'GROUP_SINGLE', 1));
    return (await mesh.statusVia(daemon, mesh.ids, CALL_TIMEOUT_MS))!.members[0]!.node;
  }

  /** The crash times `node` reports for its member of `daemon`. */
  async function crashTimes(node: number, daemon: string): Promise<readonly number[]> {
    const view = await reconcileView(mesh!.cluster.plan(node).admin);
    return view?.members?.find((member) => member.name === daemon)?.crashTimesWallMs ?? [];
  }

  /**
   * Each restart came at least its backoff (500 ms x 2^(n-1)) after the crash before, and the
   * fifth crash committed the 5-minute cooldown; answers the gaps.
   */
  async function expectBackedOffAndCooled(node: number, daemon: string): Promise<number[]> {
    const times = await crashTimes(node, daemon);
    expect(times).toHaveLength(CRASH_LOOP_CRASHES);
    const gaps = times.slice(1).map((time, index) => time - times[index]!);
    for (const [index, gapMs] of gaps.entries()) expect(gapMs).toBeGreaterThanOrEqual(500 * 2 ** index);
    const kv = new RawKvClient(mesh!.cluster.plan(mesh!.ids[0]!).client);
    try {
      await until(
        async () => {
          const record = await kv
            .get(`${ROOT}reconcile/backoff/${daemon}/${node}`, CALL_TIMEOUT_MS)
            .catch(() => null);
          return (
            record !== null &&
            (JSON.parse(record) as { untilWallMs: number }).untilWallMs >=
              times.at(-1)! + CRASH_LOOP_COOLDOWN_MS - COOLDOWN_SLACK_MS
          );
        },
        'the cooldown committed',
        CLUSTER_TIMEOUT_MS,
      );
    } finally {
      kv.close();
    }
    return gaps;
  }

  it('backs a crash-looping kind off and cools it down after 5 crashes', async () => {
    const node = await startWithModule(CRASHING_MODULE, 'loop', 'crashing');
    await until(
      async () => (await crashTimes(node, 'loop')).length >= CRASH_LOOP_CRASHES,
      '5 crashes',
      CLUSTER_TIMEOUT_MS,
    );
    const gaps = await expectBackedOffAndCooled(node, 'loop');
    console.log(
      `crash gaps ${gaps.map((gap) => `${gap} ms`).join(', ')}; then the ${CRASH_LOOP_COOLDOWN_MS / 60_000}-minute cooldown`,
    );
  }, 300_000);

  it('a kind that crashes in process: the member stops, restarts after its backoff, and is cooled down after 5 crashes', async () => {
    const node = await startWithModule(FRAGILE_MODULE, 'frail', 'fragile');
    const client = mesh!.client(node);
    let sequence = 0;
    /** Sends `payload` (one sequence, retried while no member takes it) until it is answered. */
    const sendUntilAnswered = async (payload: string): Promise<string> => {
      const identity = { clientId: 'tester', sequence: ++sequence };
      return eventually(
        `an answer to ${payload}`,
        () =>
          client.send('frail', payload, SHORT_SEND_TIMEOUT_MS, identity).then(
            () => 'applied',
            (error: unknown) => {
              if (error instanceof RawDaemonsError && error.code === 'DAEMON_PROCESS_FAILED')
                return 'DAEMON_PROCESS_FAILED';
              throw error;
            },
          ),
        CLUSTER_TIMEOUT_MS,
      );
    };
    expect(await sendUntilAnswered('first')).toBe('applied');
    const applied = ['first'];
    for (let crash = 1; crash <= CRASH_LOOP_CRASHES; crash++) {
      if (crash === CRASH_LOOP_CRASHES) {
        // Before the last crash: the restarted member's state holds every applied event once, no failed one.
        const state = await client.state('frail', 0, CALL_TIMEOUT_MS);
        expect(JSON.parse(textOf(state.state))).toEqual(applied);
      }
      expect(await sendUntilAnswered(`boom-${crash}`)).toBe('DAEMON_PROCESS_FAILED');
      await until(
        async () => (await crashTimes(node, 'frail')).length >= crash,
        `crash ${crash} reported`,
        CLUSTER_TIMEOUT_MS,
      );
      if (crash === CRASH_LOOP_CRASHES) break;
      // The next send is taken once the reconciler restarted the member: after its backoff.
      expect(await sendUntilAnswered(`after-${crash}`)).toBe('applied');
      applied.push(`after-${crash}`);
    }
    const gaps = await expectBackedOffAndCooled(node, 'frail');
    // Cooling down: not restarted, so a send is not taken.
    await expect(client.send('frail', 'cooling', SHORT_SEND_TIMEOUT_MS)).rejects.toThrow();
    console.log(`crashes in process: gaps ${gaps.map((gap) => `${gap} ms`).join(', ')}; then the cooldown`);
  }, 300_000);
});
