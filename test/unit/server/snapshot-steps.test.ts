import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvCommand, RequestOp } from '../../../src/kv/index.js';
import type { Disk, FedTask, SteppedTask } from '../../../src/lib/index.js';
import type { Entry, NodeId } from '../../../src/raft/index.js';
import {
  MAX_APPLIED_ENTRIES_PER_TURN,
  type NodeApplyResult,
  NodeStateMachine,
  RaftKvBackend,
} from '../../../src/server/index.js';
import { RESTORE_READ_BYTES } from '../../../src/server/raft-node.js';
import { GenericTestCluster, type TestNodeTiming } from './cluster-harness.js';

/**
 * Production timing (10 ms ticks, a 200-400 ms election timeout). A follower that installed a
 * snapshot continues from the log: the leader keeps 200 entries behind each snapshot.
 */
const PRODUCTION_TIMING: TestNodeTiming = {
  tickIntervalMs: 10,
  electionTicks: 20,
  heartbeatTicks: 4,
  logEntriesKeptAfterSnapshot: 200,
};

/** A node state machine that records when its snapshot and restore steps ran. */
class RecordingMachine extends NodeStateMachine {
  readonly events: string[] = [];
  private busy: string | undefined;

  override apply(entry: Entry): NodeApplyResult {
    if (this.busy !== undefined && !this.events.includes(`applied while ${this.busy}`))
      this.events.push(`applied while ${this.busy}`);
    return super.apply(entry);
  }

  override startSnapshotParts(): SteppedTask<readonly Uint8Array[]> {
    return this.recorded('encoding', super.startSnapshotParts());
  }

  override startRestore(data: Uint8Array): SteppedTask<void> {
    return this.recorded('restoring', super.startRestore(data));
  }

  /** Sizes of the parts a restore fed from a file was given, in order. */
  readonly restoreParts: number[] = [];

  override startRestoreFrom(byteLength: number): FedTask<void> {
    const task = super.startRestoreFrom(byteLength);
    const recorded = this.recorded('restoring', task);
    return {
      get wantsBytes() {
        return task.wantsBytes;
      },
      push: (part) => {
        this.restoreParts.push(part.byteLength);
        task.push(part);
      },
      step: () => recorded.step(),
      result: () => recorded.result(),
      cancel: () => recorded.cancel(),
    };
  }

  /** Notes the start, a timer set at the start firing, and the end of `task`. */
  private recorded<T>(what: string, task: SteppedTask<T>): SteppedTask<T> {
    this.events.push(`${what} started`);
    this.busy = what;
    setTimeout(() => this.events.push(`timer set when ${what} started`), 0);
    return {
      step: () => {
        const done = task.step();
        if (done && this.busy === what) {
          this.events.push(`${what} finished`);
          this.busy = undefined;
        }
        return done;
      },
      result: () => task.result(),
      cancel: () => task.cancel(),
    };
  }
}

/** Counts applied entries; once watching, notes how many were applied when a timer set at the next apply fired. */
class BacklogMachine extends NodeStateMachine {
  applied = 0;
  watching = false;
  appliedWhenTimerFired: number | undefined;

  override apply(entry: Entry): NodeApplyResult {
    if (this.watching) {
      this.watching = false;
      setTimeout(() => {
        this.appliedWhenTimerFired = this.applied;
      }, 0);
    }
    this.applied++;
    return super.apply(entry);
  }
}

function putsTxn(first: number, count: number, value: Uint8Array): KvCommand {
  const success: RequestOp[] = [];
  for (let index = first; index < first + count; index++) {
    success.push({ type: 'put', key: new TextEncoder().encode(`key-${index}`), value });
  }
  return { type: 'txn', compare: [], success, failure: [] };
}

/** Loads `keyCount` keys through the leader's backend, in txns of `putsPerTxn` puts. */
async function load(backend: RaftKvBackend, keyCount: number, putsPerTxn: number): Promise<void> {
  const value = new Uint8Array(128).fill(0x61);
  const writes: Promise<unknown>[] = [];
  for (let first = 0; first < keyCount; first += putsPerTxn) {
    writes.push(backend.execute(putsTxn(first, Math.min(putsPerTxn, keyCount - first), value)));
    // A bounded number in flight, as a client would keep.
    if (writes.length >= 32) await writes.shift();
  }
  await Promise.all(writes);
}

class KvCluster<Machine extends NodeStateMachine> extends GenericTestCluster<Machine, NodeApplyResult> {
  readonly backends = new Map<NodeId, RaftKvBackend>();

  backendOf(id: NodeId): RaftKvBackend {
    let backend = this.backends.get(id);
    if (backend === undefined) {
      const entry = this.get(id);
      backend = new RaftKvBackend(entry.node, entry.machine, {
        clusterId: 9n,
        clock: this.clock,
        electionTimeoutMs: 200,
      });
      this.backends.set(id, backend);
    }
    return backend;
  }

  override async stop(): Promise<void> {
    for (const backend of this.backends.values()) backend.close();
    await super.stop();
  }
}

/** Every key with its revisions and value, and the store's revision: the state clients see. */
function everyKey(machine: NodeStateMachine): string[] {
  const all = machine.kv.range({ type: 'range', key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
  return [
    `revision ${machine.kv.revision}`,
    ...all.kvs.map(
      (kv) =>
        `${new TextDecoder().decode(kv.key)} ${kv.createRevision} ${kv.modRevision} ${kv.version} ${Buffer.from(kv.value).toString('hex')}`,
    ),
  ];
}

/** A node's snapshot files (name and bytes), oldest first. */
async function snapshotFiles(entry: {
  disk: Disk;
  dataDirectory: string;
}): Promise<Array<[string, Uint8Array]>> {
  const names = (await entry.disk.list(entry.dataDirectory)).filter((name) => name.endsWith('.snap'));
  return Promise.all(
    names.map(
      async (name): Promise<[string, Uint8Array]> => [
        name,
        await entry.disk.readFile(path.join(entry.dataDirectory, name)),
      ],
    ),
  );
}

const terms = <Machine extends NodeStateMachine>(cluster: KvCluster<Machine>): number[] =>
  [...cluster.nodes.values()].map((entry) => entry.node.status().term);

/** Starts the cluster, cuts one follower off and loads the leader until its snapshot is past that follower. */
async function isolateAFollowerBehindASnapshot(
  cluster: KvCluster<RecordingMachine>,
  keyCount: number,
  putsPerTxn: number,
) {
  await cluster.start();
  const leader = await cluster.waitForLeader(10_000);
  const lagging = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
  cluster.links.isolated.add(lagging.id);
  await load(cluster.backendOf(leader.id), keyCount, putsPerTxn);
  await cluster.until(
    () =>
      leader.node.storeMetrics().snapshotsSaved > 0 &&
      leader.node.status().firstIndex > lagging.node.applied + 1,
    'a snapshot on the leader past the follower',
    30_000,
  );
  return { leader, lagging };
}

describe('snapshots taken and installed a step at a time', () => {
  let cluster: KvCluster<RecordingMachine> | undefined;
  let dataRoot: string | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dataRoot !== undefined) await rm(dataRoot, { recursive: true, force: true });
    dataRoot = undefined;
  });

  it('encodes while timers fire and entries are applied, then saves the snapshot', async () => {
    cluster = new KvCluster([1], () => new RecordingMachine(), 100);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const backend = cluster.backendOf(leader.id);
    await load(backend, 20_000, 125);
    // Keep writing until the snapshot that the load set off has been encoded.
    const value = new Uint8Array([1]);
    for (let round = 0; !leader.machine.events.includes('encoding finished'); round++) {
      await backend.execute({ type: 'put', key: new TextEncoder().encode(`more-${round}`), value });
    }
    const events = leader.machine.events;
    const started = events.indexOf('encoding started');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('timer set when encoding started')).toBeGreaterThan(started);
    expect(events.indexOf('applied while encoding')).toBeGreaterThan(started);
    expect(events.indexOf('encoding finished')).toBeGreaterThan(
      events.indexOf('timer set when encoding started'),
    );
    expect(events.indexOf('encoding finished')).toBeGreaterThan(events.indexOf('applied while encoding'));
    await cluster.until(() => leader.node.storeMetrics().snapshotsSaved > 0, 'the snapshot to be saved');
  });

  it('restores the snapshot file a step at a time when a node restarts, to the state it had', async () => {
    cluster = new KvCluster([1], () => new RecordingMachine(), 100);
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await load(cluster.backendOf(leader.id), 20_000, 125);
    await cluster.until(() => leader.node.storeMetrics().snapshotsSaved > 0, 'the snapshot to be saved');
    const before = everyKey(leader.machine);
    const appliedBefore = leader.node.applied;
    cluster.backends.get(leader.id)?.close();
    cluster.backends.delete(leader.id);

    await cluster.crashAndRestart(leader.id);
    const restarted = cluster.get(leader.id);
    const events = restarted.machine.events;
    // The restore ran in steps with turns of the event loop between them: a timer set when it
    // began fired before it ended.
    expect(events.indexOf('restoring started')).toBe(0);
    expect(events.indexOf('timer set when restoring started')).toBeGreaterThan(0);
    expect(events.indexOf('timer set when restoring started')).toBeLessThan(
      events.indexOf('restoring finished'),
    );
    await cluster.until(() => restarted.node.applied >= appliedBefore, 'the restarted node to apply its log');
    expect(everyKey(restarted.machine)).toEqual(before);
  });

  it("applies a follower's backlog of committed entries in slices, serving timers between them", async () => {
    const backlogCluster = new KvCluster([1, 2, 3], () => new BacklogMachine());
    try {
      await backlogCluster.start();
      const leader = await backlogCluster.waitForLeader();
      const lagging = [...backlogCluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
      backlogCluster.links.isolated.add(lagging.id);
      // One entry per put: several turns' worth for the follower to apply once it hears of them.
      await load(backlogCluster.backendOf(leader.id), 4 * MAX_APPLIED_ENTRIES_PER_TURN, 1);
      const behind = leader.node.applied - lagging.node.applied;
      lagging.machine.watching = true;
      const appliedBefore = lagging.machine.applied;
      backlogCluster.links.isolated.delete(lagging.id);
      await backlogCluster.until(
        () => lagging.node.applied >= leader.node.applied,
        'the follower to catch up',
        10_000,
      );
      await backlogCluster.until(() => lagging.machine.appliedWhenTimerFired !== undefined, 'the timer');
      // A timer set at the first apply fired after at most one turn's slice of the backlog.
      expect(behind).toBeGreaterThan(3 * MAX_APPLIED_ENTRIES_PER_TURN);
      const appliedInFirstTurn = (lagging.machine.appliedWhenTimerFired as number) - appliedBefore;
      expect(appliedInFirstTurn).toBeGreaterThan(0);
      expect(appliedInFirstTurn).toBeLessThanOrEqual(MAX_APPLIED_ENTRIES_PER_TURN);
    } finally {
      await backlogCluster.stop();
    }
  });

  it('sends a follower the snapshot from its file: no node keeps one in memory, the follower gets it byte for byte', {
    timeout: 60_000,
  }, async () => {
    cluster = new KvCluster([1, 2, 3], () => new RecordingMachine(), 200, PRODUCTION_TIMING);
    const { leader, lagging } = await isolateAFollowerBehindASnapshot(cluster, 10_000, 25);
    cluster.links.isolated.delete(lagging.id);
    await cluster.until(
      () =>
        lagging.machine.events.includes('restoring finished') && lagging.node.applied === leader.node.applied,
      'the follower to install the snapshot and catch up',
      30_000,
    );
    expect(everyKey(lagging.machine)).toEqual(everyKey(leader.machine));
    // The follower saved what it was sent: the leader's snapshot file, byte for byte.
    const installed = await snapshotFiles(lagging);
    expect(installed.length).toBeGreaterThan(0);
    const leaderFiles = new Map(await snapshotFiles(leader));
    for (const [name, bytes] of installed) {
      if (leaderFiles.has(name)) expect(bytes).toEqual(leaderFiles.get(name));
    }
    expect(installed.some(([name]) => leaderFiles.has(name))).toBe(true);
    // Snapshots live in their files only, once saved and once installed.
    for (const entry of cluster.nodes.values()) expect(entry.node.logMemory().snapshotBytes).toBe(0);
  });

  it('a follower writes a received snapshot to its file as it comes and restores it fed from the file: never the whole snapshot in memory', {
    timeout: 120_000,
  }, async () => {
    cluster = new KvCluster([1, 2, 3], () => new RecordingMachine(), 200, PRODUCTION_TIMING);
    // 300 entries: the snapshot at 200 holds some 10,000 keys, more than one part of a restore.
    const { leader, lagging } = await isolateAFollowerBehindASnapshot(cluster, 15_000, 50);
    // What the follower holds of a snapshot in memory, looked at every turn of the event loop
    // from the reconnection until its restore finished.
    let mostHeld = 0;
    let sampling = true;
    const sample = (): void => {
      mostHeld = Math.max(mostHeld, lagging.node.logMemory().snapshotBytes);
      if (sampling) setImmediate(sample);
    };
    sample();
    cluster.links.isolated.delete(lagging.id);
    await cluster.until(
      () => lagging.machine.events.includes('restoring finished'),
      'the follower to install the snapshot',
      30_000,
    );
    sampling = false;
    await cluster.until(
      () => lagging.node.applied === leader.node.applied,
      'the follower to catch up',
      30_000,
    );
    expect(everyKey(lagging.machine)).toEqual(everyKey(leader.machine));
    // Fed from the file a part at a time: several parts, none larger than one read.
    const parts = lagging.machine.restoreParts;
    const snapshotBytes = parts.reduce((total, part) => total + part, 0);
    expect(snapshotBytes).toBeGreaterThan(RESTORE_READ_BYTES);
    expect(parts.length).toBe(Math.ceil(snapshotBytes / RESTORE_READ_BYTES));
    expect(Math.max(...parts)).toBeLessThanOrEqual(RESTORE_READ_BYTES);
    // Neither receiving (chunks go to the file as they arrive) nor restoring held it whole.
    expect(mostHeld).toBe(0);
    const installed = new Map(await snapshotFiles(lagging));
    const sent = (await snapshotFiles(leader)).filter(([name]) => installed.has(name));
    expect(sent.length).toBeGreaterThan(0);
    for (const [name, bytes] of sent) expect(installed.get(name)).toEqual(bytes);
  });

  it('catches a cut-off follower up from a 20,000-key snapshot under client load: no election, no client error', {
    timeout: 120_000,
  }, async () => {
    const keyCount = 20_000;
    // Real files, and a snapshot every 200 entries: the 800 entries of the load take several.
    dataRoot = await mkdtemp(path.join(os.tmpdir(), 'meshos-snapshot-catch-up-'));
    cluster = new KvCluster([1, 2, 3], () => new RecordingMachine(), 200, {
      ...PRODUCTION_TIMING,
      dataRoot,
    });
    await cluster.start();
    const leader = await cluster.waitForLeader(10_000);
    const lagging = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    const termBefore = leader.node.status().term;
    const backend = cluster.backendOf(leader.id);

    cluster.links.isolated.add(lagging.id);
    await load(backend, keyCount, 25);
    // The first snapshot saved may not have compacted past the follower yet: on a loaded machine
    // its steps outlast the load (no second one starts meanwhile), and a snapshot keeps 200
    // entries behind it. The next, taken once it is saved, does.
    await cluster.until(
      () =>
        leader.node.storeMetrics().snapshotsSaved > 0 &&
        leader.node.status().firstIndex > lagging.node.applied + 1,
      'a snapshot on the leader past the follower',
      30_000,
    );

    // Client load runs through the catch-up; every write must succeed.
    const errors: unknown[] = [];
    let writes = 0;
    let loading = true;
    const writer = async (worker: number): Promise<void> => {
      for (let round = 0; loading; round++) {
        try {
          await backend.execute({
            type: 'put',
            key: new TextEncoder().encode(`load-${worker}-${round % 1_000}`),
            value: new Uint8Array(64),
          });
          writes++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const workers = [0, 1, 2, 3].map(writer);
    cluster.links.isolated.delete(lagging.id);
    await cluster.until(
      () =>
        lagging.machine.events.includes('restoring finished') &&
        lagging.node.applied >= leader.node.status().commit - 1_000,
      'the follower to install the snapshot and catch up',
      60_000,
    );
    const writesDuringCatchUp = writes;
    loading = false;
    await Promise.all(workers);

    expect(errors).toEqual([]);
    expect(writesDuringCatchUp).toBeGreaterThan(0);
    expect(terms(cluster)).toEqual([termBefore, termBefore, termBefore]);
    expect(leader.node.isLeader()).toBe(true);
    const events = lagging.machine.events;
    expect(events.indexOf('timer set when restoring started')).toBeLessThan(
      events.indexOf('restoring finished'),
    );
    // Once quiet, the follower holds exactly the leader's state.
    await backend.execute({ type: 'put', key: new TextEncoder().encode('last'), value: new Uint8Array(1) });
    await cluster.until(
      () => lagging.node.applied === leader.node.applied,
      'the follower to apply everything',
      10_000,
    );
    expect(lagging.machine.kv.snapshot()).toEqual(leader.machine.kv.snapshot());
    expect(
      lagging.machine.kv.range({
        type: 'range',
        key: new Uint8Array([0]),
        rangeEnd: new Uint8Array([0]),
        countOnly: true,
      }).count,
    ).toBeGreaterThanOrEqual(keyCount);
  });
});
