import { describe, expect, it } from 'vitest';
import {
  ChainExistsError,
  ChainNotFoundError,
  newChainDefinition,
  validateChainCreate,
} from '../../../src/chains/index.js';
import { isMeshError, ManualClock, type NodeId } from '../../../src/lib/index.js';
import {
  type ChainDefinitionStore,
  ChainRequests,
  CREATE_CLAIM_POLL_MS,
  CREATE_CLAIM_WAIT_MS,
  SUBSCRIBE_WAIT_MS,
} from '../../../src/mesh/chain-requests.js';
import {
  definitionOf,
  FakeDefinitions,
  type FakeMessage,
  FakeNetwork,
  settle,
  startHost,
  type TestHost,
} from '../chains/chain-host-fakes.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);

interface Mesh {
  readonly clock: ManualClock;
  readonly network: FakeNetwork;
  readonly definitions: FakeDefinitions;
  readonly nodes: Map<NodeId, { node: TestHost; requests: ChainRequests<FakeMessage> }>;
}

async function mesh(ids: NodeId[], replicas: { readonly claimPending?: boolean } = {}): Promise<Mesh> {
  const clock = new ManualClock();
  const network = new FakeNetwork();
  const definitions = new FakeDefinitions();
  const store: ChainDefinitionStore = {
    get: async (name) => {
      const definition = definitions.byName.get(name);
      return definition === undefined ? undefined : { definition, modRevision: 1 };
    },
    create: async (input, placement) => {
      const definition = newChainDefinition(validateChainCreate(input), placement, clock.wallMs());
      if (definitions.byName.has(definition.name)) throw new ChainExistsError(definition.name);
      definitions.put(definition);
      return { definition, modRevision: 1 };
    },
    delete: async (name) => {
      if (!definitions.byName.has(name)) throw new ChainNotFoundError(name);
      definitions.remove(name);
    },
  };
  const nodes: Mesh['nodes'] = new Map();
  for (const id of ids) {
    const node = startHost(id, network, definitions, clock, {}, replicas);
    const requests = new ChainRequests<FakeMessage>({
      host: node.host,
      store,
      // The first `replicaCount` nodes by id; the origin leads when it is one of them.
      place: async ({ replicaCount, origin }) => {
        const replicas = ids.slice(0, replicaCount);
        return { replicas, leader: replicas.includes(origin) ? origin : replicas[0]! };
      },
      clock,
      // Forwarded appends of a turn go out within the microtasks `settle` runs.
      atEndOfTurn: queueMicrotask,
    });
    nodes.set(id, { node, requests });
  }
  await settle();
  return { clock, network, definitions, nodes };
}

/** Runs the manual clock a poll interval at a time until `call` settles (create waits on it). */
async function withClockRunning<T>(world: Mesh, call: Promise<T>): Promise<T> {
  let settled = false;
  void call.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let waitedMs = 0; !settled && waitedMs <= CREATE_CLAIM_WAIT_MS; waitedMs += CREATE_CLAIM_POLL_MS) {
    await settle();
    world.clock.advance(CREATE_CLAIM_POLL_MS);
  }
  return call;
}

function at(world: Mesh, id: NodeId): ChainRequests<FakeMessage> {
  return world.nodes.get(id)!.requests;
}

function leaderReplica(world: Mesh, id: NodeId, chain: string) {
  return world.nodes.get(id)!.node.opened.get(chain)!.at(-1)!;
}

describe('ChainRequests', () => {
  it('creates a chain placed with epoch 1 and its leader, and refuses a taken name', async () => {
    const world = await mesh([1, 2, 3, 4]);
    const status = await withClockRunning(
      world,
      at(world, 2).create({ name: 'orders', replicas: 3, acks: 'quorum' }),
    );
    expect(status).toMatchObject({ name: 'orders', epoch: 1, leader: 2, acks: 'quorum' });
    expect(status.replicas.every((replica) => replica.healthy)).toBe(true);
    const definition = world.definitions.byName.get('orders')!;
    expect(definition).toMatchObject({ replicas: [1, 2, 3], epoch: 1, leader: 2, origin: 2 });
    await expect(at(world, 4).create({ name: 'orders', replicas: 3, acks: 'quorum' })).rejects.toMatchObject({
      code: 'CHAIN_EXISTS',
    });
    await expect(
      at(world, 4).create({ name: 'bad/name', replicas: 3, acks: 'quorum' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await settle();
    expect((await at(world, 4).list()).map((chain) => chain.name)).toEqual(['orders']);
    await at(world, 3).delete('orders');
    await expect(at(world, 3).delete('orders')).rejects.toMatchObject({ code: 'CHAIN_NOT_FOUND' });
    await settle();
    expect(await at(world, 4).list()).toEqual([]);
  });

  it('answers create once the leader has claimed its epoch, with its replicas healthy', async () => {
    const world = await mesh([1, 2, 3], { claimPending: true });
    let answered: Awaited<ReturnType<ChainRequests<FakeMessage>['create']>> | undefined;
    const creating = at(world, 3).create({ name: 'orders', replicas: 3, acks: 'quorum' });
    void creating.then((status) => {
      answered = status;
    });
    await settle();
    world.clock.advance(CREATE_CLAIM_POLL_MS);
    await settle();
    // Still claiming: no answer yet.
    expect(answered).toBeUndefined();
    leaderReplica(world, 3, 'orders').claimed = true;
    world.clock.advance(CREATE_CLAIM_POLL_MS);
    await settle();
    expect(answered).toMatchObject({ name: 'orders', epoch: 1, leader: 3 });
    expect(answered?.replicas.map((replica) => replica.healthy)).toEqual([true, true, true]);
    // An immediate status agrees.
    expect((await at(world, 1).status('orders')).replicas.every((replica) => replica.healthy)).toBe(true);
  });

  it('answers create with the claim pending (replicas unhealthy) once the wait is over', async () => {
    const world = await mesh([1, 2, 3], { claimPending: true });
    let answered: Awaited<ReturnType<ChainRequests<FakeMessage>['create']>> | undefined;
    void at(world, 2)
      .create({ name: 'orders', replicas: 3, acks: 'quorum' })
      .then((status) => {
        answered = status;
      });
    for (
      let waitedMs = 0;
      waitedMs < CREATE_CLAIM_WAIT_MS - CREATE_CLAIM_POLL_MS;
      waitedMs += CREATE_CLAIM_POLL_MS
    ) {
      await settle();
      world.clock.advance(CREATE_CLAIM_POLL_MS);
    }
    await settle();
    expect(answered).toBeUndefined();
    world.clock.advance(2 * CREATE_CLAIM_POLL_MS);
    await settle();
    expect(answered).toMatchObject({ name: 'orders', epoch: 1, leader: 2 });
    expect(answered?.replicas.map((replica) => replica.healthy)).toEqual([false, false, false]);
  });

  it('appends through any node on the leader, and reads back from any node', async () => {
    const world = await mesh([1, 2, 3, 4]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    const results = [];
    for (const id of [1, 2, 3, 4])
      results.push(await at(world, id).append('c', [bytes(`from-${id}`)], 1_000));
    expect(results.map((result) => result.firstOffset)).toEqual([0, 1, 2, 3]);
    // Followers learn the commit offset from the leader; here the test plays that part.
    for (const id of [1, 3]) {
      const follower = leaderReplica(world, id, 'c');
      follower.entries.push(...leaderReplica(world, 2, 'c').entries);
      follower.commit(4);
    }
    for (const id of [1, 2, 3, 4]) {
      const read = await at(world, id).read('c', 0, 100, 1 << 20);
      expect(read.records.map((record) => text(record.payload))).toEqual([
        'from-1',
        'from-2',
        'from-3',
        'from-4',
      ]);
      expect(read.nextOffset).toBe(4);
    }
    // Node 4 holds no replica: its read went to the leader.
    const status = await at(world, 4).status('c');
    expect(status).toMatchObject({ leader: 2, commitOffset: 4 });
    expect(status.replicas.map((replica) => replica.node)).toEqual([1, 2, 3]);
  });

  it('forwards the appends a follower takes in one turn as one request, each answered with its own offsets', async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    const leader = leaderReplica(world, 2, 'c');
    const appendOnLeader = leader.append.bind(leader);
    const leaderCalls: number[] = [];
    leader.append = (payloads) => {
      leaderCalls.push(payloads.length);
      return appendOnLeader(payloads);
    };
    const results = await Promise.all([
      at(world, 3).append('c', [bytes('a')], 1_000),
      at(world, 3).append('c', [bytes('b'), bytes('c')], 2_000),
      at(world, 3).append('c', [bytes('d')], 1_000),
    ]);
    expect(leaderCalls).toEqual([4]);
    expect(results).toEqual([
      { epoch: 1, firstOffset: 0, lastOffset: 0 },
      { epoch: 1, firstOffset: 1, lastOffset: 2 },
      { epoch: 1, firstOffset: 3, lastOffset: 3 },
    ]);
    expect(leader.entries.map((entry) => text(entry.payload))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries an append refused unwritten on the new leader once the definition names it', async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    // The definition followed by node 3 still names 2, but 2 has stepped down (its own view moved on).
    leaderReplica(world, 2, 'c').definition = definitionOf('c', [1, 2, 3], 1, 2);
    const append = at(world, 3).append('c', [bytes('x')], 2_000);
    await settle();
    world.definitions.put(definitionOf('c', [1, 2, 3], 1, 2));
    await settle();
    world.clock.advance(200);
    await settle();
    await expect(append).resolves.toMatchObject({ epoch: 2, firstOffset: 0 });
    expect(leaderReplica(world, 1, 'c').entries.map((entry) => text(entry.payload))).toEqual(['x']);
    expect(leaderReplica(world, 2, 'c').entries).toEqual([]);
  });

  it("sends an append taken after its leader's connection was lost to the new leader, not into the lost one's queue", async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    // Node 2 was killed: the transport would hold what is sent to it until it is back, and says so.
    world.network.blackholed.add(2);
    world.network.lostConnections.add(2);
    let outcome: unknown;
    void at(world, 3)
      .append('c', [bytes('x')], 2_000)
      .then(
        (result) => {
          outcome = result;
        },
        (error: unknown) => {
          outcome = error;
        },
      );
    await settle();
    world.definitions.put(definitionOf('c', [1, 2, 3], 1, 2));
    await settle();
    world.clock.advance(200);
    await settle();
    // Served by the new leader long before the append's deadline.
    expect(outcome).toMatchObject({ epoch: 2, firstOffset: 0 });
    expect(leaderReplica(world, 1, 'c').entries.map((entry) => text(entry.payload))).toEqual(['x']);
  });

  it('answers outcome unknown, never a retry, when the leader is lost after the append reached it', async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    leaderReplica(world, 2, 'c').stall = true;
    const append = at(world, 3).append('c', [bytes('x')], 2_000);
    await settle();
    world.network.kill(2);
    await expect(append).rejects.toMatchObject({ code: 'CHAIN_APPEND_OUTCOME_UNKNOWN' });
  });

  it('answers unavailable (not written) when no leader takes the append within the deadline', async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    world.network.kill(2);
    const append = at(world, 3).append('c', [bytes('x')], 1_000);
    for (let step = 0; step < 6; step++) {
      world.clock.advance(200);
      await settle();
    }
    const error = await append.catch((caught: unknown) => caught);
    expect(isMeshError(error, 'CHAIN_UNAVAILABLE')).toBe(true);
  });

  it('answers unavailable (not written) at once when the host closes while an append waits for a leader', async () => {
    const world = await mesh([1, 2, 3]);
    world.definitions.put(definitionOf('c', [1, 2, 3], 2));
    await settle();
    world.network.kill(2);
    const append = at(world, 3).append('c', [bytes('x')], 1_000);
    await settle();
    await world.nodes.get(3)!.node.host.close();
    // No time passes: the append must not go on looking for a leader (a closed host's waits
    // resolve at once, so it would spin without end here, and until the deadline on a node).
    const error = await append.catch((caught: unknown) => caught);
    expect(isMeshError(error, 'CHAIN_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/stopped/);
  });

  it('subscribes from an offset and gets each record once as it commits', async () => {
    const world = await mesh([1, 2]);
    world.definitions.put(definitionOf('c', [1], 1));
    await settle();
    await at(world, 1).append('c', [bytes('a'), bytes('b')], 1_000);
    const abort = new AbortController();
    const seen: string[] = [];
    const subscription = (async () => {
      for await (const record of at(world, 2).subscribe('c', 1, abort.signal)) {
        seen.push(text(record.payload));
      }
    })();
    await settle(50);
    expect(seen).toEqual(['b']);
    await at(world, 1).append('c', [bytes('c')], 1_000);
    await settle(50);
    expect(seen).toEqual(['b', 'c']);
    // Nothing new: the step waiting for records ends at its wait, and the aborted subscription ends.
    abort.abort();
    world.clock.advance(SUBSCRIBE_WAIT_MS);
    await settle(50);
    await subscription;
    expect(seen).toEqual(['b', 'c']);
  });

  it("passes markers at the chain's committed end: its position reaches the commit offset without a record", async () => {
    const world = await mesh([1, 2]);
    world.definitions.put(definitionOf('c', [1], 1));
    await settle();
    await at(world, 1).append('c', [bytes('a')], 1_000);
    const abort = new AbortController();
    const seen: number[] = [];
    const stream = at(world, 2).subscribe('c', 0, abort.signal);
    expect(stream.position).toBe(0);
    const subscription = (async () => {
      for await (const record of stream) seen.push(record.offset);
    })();
    await settle(50);
    expect(seen).toEqual([0]);
    expect(stream.position).toBe(1);
    // Two leader changes after the last record: their markers commit, no record follows yet.
    const leader = leaderReplica(world, 1, 'c');
    for (const epoch of [2, 3])
      leader.entries.push({
        offset: leader.entries.length,
        epoch,
        kind: 'epoch-start',
        appendedAtMs: 0,
        payload: new Uint8Array(0),
      });
    leader.commit(leader.entries.length);
    await settle(50);
    expect(seen).toEqual([0]);
    expect(stream.position).toBe(3);
    await at(world, 1).append('c', [bytes('b')], 1_000);
    await settle(50);
    expect(seen).toEqual([0, 3]);
    abort.abort();
    world.clock.advance(SUBSCRIBE_WAIT_MS);
    await settle(50);
    await subscription;
  });

  it('hands a subscription over in the batches it read: everything committed, then each new commit', async () => {
    const world = await mesh([1, 2]);
    world.definitions.put(definitionOf('c', [1], 1));
    await settle();
    await at(world, 1).append('c', [bytes('a'), bytes('b'), bytes('c')], 1_000);
    const abort = new AbortController();
    const batches: string[][] = [];
    const subscription = (async () => {
      for await (const batch of at(world, 2).subscribe('c', 0, abort.signal).batches()) {
        batches.push(batch.map((record) => text(record.payload)));
      }
    })();
    await settle(50);
    await at(world, 1).append('c', [bytes('d'), bytes('e')], 1_000);
    await settle(50);
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    abort.abort();
    world.clock.advance(SUBSCRIBE_WAIT_MS);
    await settle(50);
    await subscription;
  });
});
