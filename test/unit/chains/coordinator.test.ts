import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChainCoordinator,
  ChainDirectory,
  type CoordinatorActionRecord,
  type CoordinatorMembership,
  type LearnerProgress,
  LearnerProgressBoard,
  StatusLearnerProgress,
} from '../../../src/chains/index.js';
import {
  CHAINS_COORDINATOR_KEY,
  type ControlPlane,
  type ControlWatch,
  type ControlWatchOptions,
  openControlPlane,
} from '../../../src/control/index.js';
import { ManualClock, type NodeId, SeededRandom } from '../../../src/lib/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

const GRACE_MS = 30_000;
const PLAN_INTERVAL_MS = 1_000;
/** Clock steps small enough for keep-alives (a third of the 5 s lease TTL) to renew in between. */
const STEP_MS = 250;

/** A membership view the test changes by hand. */
class ScriptedMembership implements CoordinatorMembership {
  private healthy = new Map<NodeId, boolean>();
  private readonly listeners = new Set<() => void>();

  constructor(ids: NodeId[]) {
    for (const id of ids) this.healthy.set(id, true);
  }

  nodes() {
    return [...this.healthy].map(([id, healthy]) => ({ id, healthy }));
  }

  onChange(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  leave(id: NodeId): void {
    this.healthy.delete(id);
    for (const listener of this.listeners) listener();
  }
}

interface Node {
  readonly id: NodeId;
  readonly plane: ControlPlane;
  readonly coordinator: ChainCoordinator;
  readonly records: CoordinatorActionRecord[];
}

let clock: ManualClock;
let backend: LocalKvBackend;
let directory: ChainDirectory;
let membership: ScriptedMembership;
let progress: LearnerProgressBoard;
const nodes: Node[] = [];

beforeEach(async () => {
  clock = new ManualClock();
  backend = new LocalKvBackend({ clock });
  directory = new ChainDirectory(await openControlPlane({ kind: 'in-process', backend, clock }), { clock });
  membership = new ScriptedMembership([1, 2, 3, 4, 5]);
  progress = new LearnerProgressBoard();
});

afterEach(async () => {
  for (const node of nodes.splice(0)) {
    await node.coordinator.stop();
    await node.plane.close();
  }
  await directory.plane.close();
  backend.close();
});

/** A coordinator on node `id`, with a control plane of its own over the shared store. */
async function startCoordinator(
  id: NodeId,
  options: { blindToOwnKey?: boolean; progress?: LearnerProgress } = {},
): Promise<Node> {
  const opened = await openControlPlane({ kind: 'in-process', backend, clock });
  const plane = options.blindToOwnKey === true ? blindToCoordinatorKey(opened) : opened;
  const records: CoordinatorActionRecord[] = [];
  const coordinator = new ChainCoordinator({
    directory: new ChainDirectory(plane, { clock }),
    self: id,
    membership,
    progress: options.progress ?? progress,
    clock,
    random: new SeededRandom(id),
    gracePeriodMs: GRACE_MS,
    planIntervalMs: PLAN_INTERVAL_MS,
    onAction: (record) => records.push(record),
  });
  coordinator.start();
  const node = { id, plane, coordinator, records };
  nodes.push(node);
  return node;
}

/** The plane, except that a watch on the coordinator key never delivers anything. */
function blindToCoordinatorKey(plane: ControlPlane): ControlPlane {
  return new Proxy(plane, {
    get(target, property) {
      if (property === 'watch') {
        return async (prefix: string, options?: ControlWatchOptions): Promise<ControlWatch> =>
          prefix === CHAINS_COORDINATOR_KEY ? silentWatch() : target.watch(prefix, options);
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function silentWatch(): ControlWatch {
  let cancel = () => {};
  const cancelled = new Promise<void>((resolve) => {
    cancel = resolve;
  });
  return {
    nextRevision: 0,
    cancel,
    async *[Symbol.asyncIterator]() {
      await cancelled;
      yield* [];
    },
  };
}

/** Lets every promise that is ready run (control-plane calls are in-process but asynchronous). */
async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) await new Promise((resolve) => setImmediate(resolve));
}

/** Moves the clock in small steps until `condition` holds, failing after `maxMs` of clock time. */
async function advanceUntil(condition: () => boolean | Promise<boolean>, what: string, maxMs = 120_000) {
  for (let elapsedMs = 0; ; elapsedMs += STEP_MS) {
    await settle();
    if (await condition()) return;
    if (elapsedMs >= maxMs) throw new Error(`${what}: not within ${maxMs} ms of clock time`);
    clock.advance(STEP_MS);
  }
}

async function advance(totalMs: number, check: () => void = () => {}): Promise<void> {
  for (let elapsedMs = 0; elapsedMs < totalMs; elapsedMs += STEP_MS) {
    clock.advance(STEP_MS);
    await settle();
    check();
  }
}

const definitionOf = async (name: string) => (await directory.require(name)).definition;
const holders = () => nodes.filter((node) => node.coordinator.coordinating);

describe('ChainCoordinator', () => {
  it('replaces the replicas of a node gone past the grace period in two steps, one coordinator acting', async () => {
    await directory.create({ name: 'a' }, { replicas: [1, 2, 3], leader: 2 });
    await directory.create({ name: 'b' }, { replicas: [3, 4, 1], leader: 4 });
    await directory.create({ name: 'c' }, { replicas: [1, 2, 4], leader: 1 });
    await startCoordinator(1);
    await startCoordinator(2);
    await advanceUntil(() => holders().length === 1, 'one coordinator holds the key');
    const [holder] = holders();
    const other = nodes.find((node) => node !== holder)!;

    membership.leave(3);
    // Within the grace period nothing changes.
    await advance(GRACE_MS - 2 * PLAN_INTERVAL_MS);
    expect((await definitionOf('a')).learners).toBeUndefined();
    expect((await definitionOf('b')).learners).toBeUndefined();

    await advanceUntil(
      async () =>
        (await definitionOf('a')).learners !== undefined && (await definitionOf('b')).learners !== undefined,
      'learners added',
    );
    // Step one: a learner on the least loaded node outside each set; replicas and epochs unchanged.
    expect(await definitionOf('a')).toMatchObject({
      replicas: [1, 2, 3],
      learners: [5],
      epoch: 1,
      leader: 2,
    });
    expect(await definitionOf('b')).toMatchObject({
      replicas: [3, 4, 1],
      learners: [5],
      epoch: 1,
      leader: 4,
    });
    await advance(3 * PLAN_INTERVAL_MS);
    expect((await definitionOf('a')).replicas).toContain(3);

    // Step two, once each learner reports caught up: promoted in the gone node's place, new epoch.
    progress.report('a', 5, true);
    progress.report('b', 5, true);
    await advanceUntil(
      async () => (await definitionOf('a')).epoch === 2 && (await definitionOf('b')).epoch === 2,
      'promotions',
    );
    expect(await definitionOf('a')).toEqual(
      expect.objectContaining({ replicas: [1, 2, 5], epoch: 2, leader: 2 }),
    );
    expect(await definitionOf('b')).toEqual(
      expect.objectContaining({ replicas: [5, 4, 1], epoch: 2, leader: 4 }),
    );
    expect((await definitionOf('a')).learners).toBeUndefined();
    expect(await definitionOf('c')).toMatchObject({ replicas: [1, 2, 4], epoch: 1 });

    const applied = holder!.records
      .filter((record) => record.outcome === 'applied')
      .map((record) => record.action.type);
    expect(applied.sort()).toEqual(['add-learner', 'add-learner', 'promote-learner', 'promote-learner']);
    expect(other.records).toEqual([]);
    expect(holder!.coordinator.applied).toBe(4);
  });

  it('hands over when the holder stops, and the new holder elects a leader for a chain whose leader left', async () => {
    await directory.create({ name: 'a' }, { replicas: [1, 2, 3], leader: 3 });
    const first = await startCoordinator(1);
    await advanceUntil(() => first.coordinator.coordinating, 'the first coordinator holds the key');
    const second = await startCoordinator(2);
    await advance(5 * PLAN_INTERVAL_MS, () => expect(holders()).toEqual([first]));
    await first.coordinator.stop();
    expect(await directory.plane.get(CHAINS_COORDINATOR_KEY)).toBeUndefined();
    await advanceUntil(() => second.coordinator.coordinating, 'the second takes over');
    membership.leave(3);
    await advanceUntil(async () => (await definitionOf('a')).epoch === 2, 'an election');
    expect(await definitionOf('a')).toMatchObject({ replicas: [1, 2, 3], epoch: 2, leader: 1 });
    expect(first.records).toEqual([]);
    expect(second.records.map((record) => [record.action.type, record.outcome])).toEqual([
      ['elect', 'applied'],
    ]);
  });

  it('a holder whose key was taken from it without its knowing cannot apply anything: its writes are fenced', async () => {
    await directory.create({ name: 'a' }, { replicas: [1, 2, 3], leader: 3 });
    // The stale holder never hears of its key's deletion (as if paused, or its watch lagging).
    const stale = await startCoordinator(1, { blindToOwnKey: true });
    await advanceUntil(() => stale.coordinator.coordinating, 'the first coordinator holds the key');
    const fresh = await startCoordinator(2);
    await settle();
    await directory.plane.delete(CHAINS_COORDINATOR_KEY);
    await advanceUntil(() => fresh.coordinator.coordinating, 'the second takes the key');
    expect(stale.coordinator.coordinating).toBe(true);
    membership.leave(3);
    await advanceUntil(async () => (await definitionOf('a')).epoch === 2, 'an election');
    await advance(3 * PLAN_INTERVAL_MS);
    expect((await definitionOf('a')).epoch).toBe(2);
    expect(stale.records.map((record) => [record.action.type, record.outcome])).toEqual([
      ['elect', 'fenced'],
    ]);
    expect(fresh.records.map((record) => [record.action.type, record.outcome])).toEqual([
      ['elect', 'applied'],
    ]);
    expect(stale.coordinator.coordinating).toBe(false);
  });

  it("promotes a learner once the leader's status shows it caught up (progress asked for, not pushed)", async () => {
    await directory.create({ name: 'a' }, { replicas: [1, 2, 3], leader: 1 });
    let learnerOffset = 5;
    const asked: string[] = [];
    const statusProgress = new StatusLearnerProgress(async (name) => {
      asked.push(name);
      const { learners = [] } = await definitionOf(name);
      return {
        commitOffset: 10,
        epochStartOffset: 4,
        learners: learners.map((node) => ({ node, offset: learnerOffset })),
      };
    });
    await startCoordinator(1, { progress: statusProgress });
    membership.leave(3);
    await advanceUntil(async () => (await definitionOf('a')).learners !== undefined, 'a learner');
    expect(await definitionOf('a')).toMatchObject({ replicas: [1, 2, 3], learners: [4], epoch: 1 });
    await advance(5 * PLAN_INTERVAL_MS);
    expect(asked.length).toBeGreaterThanOrEqual(5);
    expect((await definitionOf('a')).epoch).toBe(1);
    learnerOffset = 10;
    await advanceUntil(async () => (await definitionOf('a')).epoch === 2, 'the promotion');
    expect(await definitionOf('a')).toMatchObject({ replicas: [1, 2, 4], epoch: 2, leader: 1 });
  });

  it("takes over even when the history since the holder's write was compacted", async () => {
    const first = await startCoordinator(1);
    await advanceUntil(() => first.coordinator.coordinating, 'the first coordinator holds the key');
    for (let round = 0; round < 5; round++) await directory.plane.put('noise', new Uint8Array([round]));
    const { revision } = await directory.plane.put('noise', new Uint8Array([9]));
    await backend.execute({ type: 'compact', revision });
    const second = await startCoordinator(2);
    await advance(2 * PLAN_INTERVAL_MS, () => expect(holders()).toEqual([first]));
    await first.coordinator.stop();
    await advanceUntil(() => second.coordinator.coordinating, 'the second takes over');
  });
});
