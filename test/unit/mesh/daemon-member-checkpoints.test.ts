/**
 * A member's checkpoints over an in-memory inbound chain: a restarted member restores its
 * checkpoint and replays only the chain's tail (counted), with its dedup table; a checkpoint of
 * another deployment or a damaged one is ignored (the chain is replayed from its start); a warm
 * standby applies nothing, holds the active's checkpoint and on promotion replays only the tail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundChainName, outputChainName } from '../../../src/daemons/chain-names.js';
import {
  type DaemonDefinition,
  decodeJournalState,
  ExactlyOnceApplier,
  encodeInboundEventRecord,
  journalKind,
} from '../../../src/daemons/index.js';
import { decodeMemberCheckpoint } from '../../../src/daemons/member-checkpoint.js';
import { SystemClock } from '../../../src/lib/index.js';
import { MemoryCheckpointStore } from '../../../src/mesh/daemon-checkpoint-store.js';
import { DaemonMember, type DaemonMemberOptions } from '../../../src/mesh/daemon-member.js';
import { standbyDefinition } from '../../support/daemon-definition.js';
import { FakeChainsBackend } from '../../support/fake-chains-backend.js';
import { until } from '../../support/until.js';

const NAME = 'log';
const EVERY = { events: 10, bytes: 1 << 30 };
const APPEND_TIMEOUT_MS = 1_000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);
const hot: DaemonDefinition = standbyDefinition({ name: NAME, createdAtMs: 5_000 });

let chains: FakeChainsBackend;
const started: DaemonMember[] = [];
const clock = new SystemClock();

beforeEach(async () => {
  chains = new FakeChainsBackend();
  for (const name of [inboundChainName(NAME), outputChainName(NAME)])
    await chains.create({ name, replicas: 1, acks: 'quorum' });
});
afterEach(async () => {
  for (const member of started.splice(0)) await member.stop();
});

function startMember(
  store: MemoryCheckpointStore,
  index: number,
  definition: DaemonDefinition = hot,
  extra: Partial<DaemonMemberOptions> = {},
): DaemonMember {
  const applierOptions = () => ({
    kind: journalKind,
    config: undefined,
    context: { daemonName: NAME, memberIndex: index, node: index + 1 },
    clock,
  });
  const member = new DaemonMember({
    definition,
    index,
    newApplier: () => ExactlyOnceApplier.create(applierOptions()),
    restoreApplier: (snapshot) => ExactlyOnceApplier.restore(applierOptions(), snapshot),
    chains,
    checkpoints: store,
    checkpointEvery: EVERY,
    clock,
    ...extra,
  });
  started.push(member);
  member.start();
  return member;
}

/** Events `from`..`to`, each of its own client (`client-N`, sequence 1), payload `eN`. */
async function appendEvents(from: number, to: number): Promise<void> {
  for (let event = from; event <= to; event++) await appendEvent(event);
}

async function appendEvent(event: number): Promise<void> {
  const record = encodeInboundEventRecord({
    epoch: 1,
    clientId: `client-${event}`,
    sequence: 1,
    payload: bytes(`e${event}`),
  });
  await chains.append(inboundChainName(NAME), [record], APPEND_TIMEOUT_MS);
}

const payloads = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, at) => `e${from + at}`);

async function journalOf(member: DaemonMember): Promise<string[]> {
  return decodeJournalState((await member.state()).state).map(text);
}

describe('member checkpoints', () => {
  it('a restarted member restores its checkpoint and replays only the tail, its dedup table included', async () => {
    const store = new MemoryCheckpointStore();
    await appendEvents(1, 25);
    const first = startMember(store, 1);
    await until(
      async () => ((await store.load(NAME))?.appliedThrough ?? 0) >= 20,
      'a checkpoint at 20 or later',
    );
    await until(() => first.syncedThrough === 25, 'the first member applied every event');
    await first.stop();
    const saved = (await store.load(NAME))!;
    expect(saved).toMatchObject({ createdAtMs: hot.createdAtMs, epochSeen: 1 });

    await appendEvents(26, 32);
    await appendEvent(5); // a retry of an event the checkpoint reflects: its client's sequence 1 again
    const second = startMember(store, 1);
    await until(() => second.syncedThrough === 33, 'the restarted member caught up');
    expect(second.startedAt).toBe(saved.appliedThrough);
    expect(second.appliedRecords).toBe(33 - saved.appliedThrough);
    expect(await second.waitFor(32, APPEND_TIMEOUT_MS)).toEqual({
      type: 'applied',
      outputs: [bytes('4')],
      duplicate: true,
    });
    expect(await journalOf(second)).toEqual(payloads(1, 32));
  });

  it('ignores a checkpoint of another deployment and a damaged one: the chain is replayed from its start', async () => {
    await appendEvents(1, 15);
    const store = new MemoryCheckpointStore();
    const first = startMember(store, 1);
    await until(async () => (await store.load(NAME)) !== undefined, 'a checkpoint');
    await until(() => first.syncedThrough === 15, 'every event applied');
    await first.stop();
    const saved = (await store.load(NAME))!;

    await store.save(NAME, { ...saved, createdAtMs: hot.createdAtMs + 1 });
    const other = startMember(store, 1);
    await until(() => other.syncedThrough === 15, 'the replay from the start');
    expect(other.startedAt).toBe(0);
    expect(other.appliedRecords).toBe(15);
    await other.stop();

    const damaged = store.files.get(NAME)!.slice();
    damaged[damaged.length - 10] = (damaged[damaged.length - 10] as number) ^ 0xff;
    store.files.set(NAME, damaged);
    const again = startMember(store, 1);
    await until(() => again.syncedThrough === 15, 'the replay from the start');
    expect(again.appliedRecords).toBe(15);
    expect(await journalOf(again)).toEqual(payloads(1, 15));
  });

  it("a warm standby applies nothing, holds the active's checkpoint, and replays only the tail when promoted", async () => {
    const warmDefinition: DaemonDefinition = { ...hot, standbyMode: 'warm' };
    const active = startMember(new MemoryCheckpointStore(), 0, warmDefinition);
    await appendEvents(1, 25);
    await until(() => active.syncedThrough === 25, 'the active applied every event');
    const warmStore = new MemoryCheckpointStore();
    const fetched: number[] = [];
    const warm = startMember(warmStore, 1, warmDefinition, {
      fetchFrom: async (node, name, minAppliedThrough) => {
        expect([node, name]).toEqual([1, NAME]);
        fetched.push(minAppliedThrough);
        return decodeMemberCheckpoint((await active.checkpointToServe(minAppliedThrough))!.bytes);
      },
    });
    await until(() => warm.syncedThrough >= 20, 'the warm standby holds a checkpoint', 10_000);
    expect(warm.appliedRecords).toBe(0);
    expect(fetched.length).toBeGreaterThan(0);
    expect((await warmStore.load(NAME))?.appliedThrough).toBe(warm.syncedThrough);
    const held = warm.syncedThrough;
    expect((await warm.state()).appliedThrough).toBe(held);

    await appendEvents(26, 30);
    warm.updateDefinition({ ...warmDefinition, active: 1, epoch: 2 });
    await until(() => warm.syncedThrough === 30, 'the promoted standby replayed the tail');
    expect(warm.appliedRecords).toBe(30 - held);
    await until(() => active.syncedThrough === 30, 'the old active applied every event');
    expect(await journalOf(warm)).toEqual(await journalOf(active));
    expect(await journalOf(warm)).toEqual(payloads(1, 30));
  });
});
