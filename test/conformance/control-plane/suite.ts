/**
 * The control-plane conformance suite: one set of tests every store must pass, run against the
 * in-process backend on a real node, MeshOS voters over gRPC, and a real etcd 3.4 cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  absent,
  type ControlEvent,
  type ControlPlane,
  type ControlWatch,
  encodeRecord,
  isMeshError,
  type LeaseLoss,
  MAX_CONTROL_KEY_BYTES,
  MAX_CONTROL_RANGE_LIMIT,
  MAX_CONTROL_TXN_OPERATIONS,
  MAX_CONTROL_VALUE_BYTES,
  nodeKey,
  readRecord,
  unchangedSince,
  valueIs,
} from '../../../src/index.js';
import { isRecord } from '../../../src/lib/index.js';
import { HoldableClock } from '../../support/holdable-clock.js';
import { until } from '../../support/until.js';
import { bytes, type ControlPlaneFixture, freshRoot, text } from './fixture.js';

/** Takes `count` events from a watch, failing the test if they do not come within the deadline. */
/** Txns of MAX_CONTROL_TXN_OPERATIONS puts each: 1,280 events in 20 revisions. */
const SLOW_READER_BATCHES = 20;

export async function takeEvents(
  watch: ControlWatch,
  count: number,
  timeoutMs = 15_000,
): Promise<ControlEvent[]> {
  const events: ControlEvent[] = [];
  if (count === 0) return events;
  const iterator = watch[Symbol.asyncIterator]();
  const timer = setTimeout(() => watch.cancel(), timeoutMs);
  try {
    while (events.length < count) {
      const next = await iterator.next();
      if (next.done === true) throw new Error(`watch ended after ${events.length} of ${count} events`);
      events.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

export const describeEvent = (event: ControlEvent): string =>
  event.type === 'put'
    ? `put ${event.entry.key}=${text(event.entry.value)}@${event.entry.modRevision}`
    : `delete ${event.key}@${event.revision}`;

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(isMeshError(error, code), `${String(error)} is not ${code}`).toBe(true);
    return;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

export function describeControlPlaneConformance(
  label: string,
  start: () => Promise<ControlPlaneFixture>,
): { fixture: () => ControlPlaneFixture } {
  let fixture: ControlPlaneFixture;
  const planes: ControlPlane[] = [];
  const open = async (options?: { clock?: HoldableClock }): Promise<ControlPlane> => {
    const plane = await fixture.open(freshRoot(label), options);
    planes.push(plane);
    return plane;
  };

  beforeAll(async () => {
    fixture = await start();
  }, 60_000);

  afterAll(async () => {
    for (const plane of planes) await plane.close();
    await fixture?.close();
  }, 60_000);

  describe(`control plane on ${label}: keys and values`, () => {
    it('puts, gets and deletes a key, with its counters', async () => {
      const plane = await open();
      expect(await plane.get('a')).toBeUndefined();
      const first = await plane.put('a', bytes('one'));
      const second = await plane.put('a', bytes('two'));
      expect(second.revision).toBeGreaterThan(first.revision);
      const entry = await plane.get('a');
      expect(entry).toMatchObject({ key: 'a', createRevision: first.revision, modRevision: second.revision });
      expect(entry?.version).toBe(2);
      expect(entry?.lease).toBe(0);
      expect(text(entry?.value)).toBe('two');
      expect(text((await plane.get('a', { revision: first.revision }))?.value)).toBe('one');
      expect((await plane.delete('a')).deleted).toBe(1);
      expect((await plane.delete('a')).deleted).toBe(0);
      expect(await plane.get('a')).toBeUndefined();
    });

    it('ranges by prefix in key order, with a limit, pages and a pinned revision', async () => {
      const plane = await open();
      for (const id of [3, 1, 2]) await plane.put(nodeKey(id), bytes(`n${id}`));
      await plane.put('nodes-other', bytes('not under nodes/'));
      const all = await plane.range('nodes/');
      expect(all.entries.map((entry) => entry.key)).toEqual(['nodes/1', 'nodes/2', 'nodes/3']);
      expect(all.more).toBe(false);
      const page = await plane.range('nodes/', { limit: 2 });
      expect(page.entries.map((entry) => entry.key)).toEqual(['nodes/1', 'nodes/2']);
      expect(page.more).toBe(true);
      await plane.put(nodeKey(4), bytes('n4'));
      const rest = await plane.range('nodes/', { startAfter: 'nodes/2', revision: page.revision });
      expect(rest.entries.map((entry) => entry.key)).toEqual(['nodes/3']);
      expect(rest.revision).toBeGreaterThan(page.revision);
      expect((await plane.range('')).entries).toHaveLength(5);
    });

    it('reads and deletes an absent key as absent, leaving the keys after it alone', async () => {
      const plane = await open();
      await plane.put('b', bytes('after'));
      expect(await plane.get('a')).toBeUndefined();
      expect((await plane.delete('a')).deleted).toBe(0);
      const answer = await plane.txn({
        compare: [],
        success: [
          { type: 'get', key: 'a' },
          { type: 'delete', key: 'a' },
        ],
      });
      expect(answer.results).toEqual([
        { type: 'get', entry: undefined },
        { type: 'delete', deleted: 0 },
      ]);
      expect(text((await plane.get('b'))?.value)).toBe('after');
    });

    it('deletes every key under a prefix and nothing else', async () => {
      const plane = await open();
      for (const key of ['d/1', 'd/2', 'd/3/x', 'dz']) await plane.put(key, bytes(key));
      const answer = await plane.deletePrefix('d/');
      expect(answer.deleted).toBe(3);
      expect((await plane.range('')).entries.map((entry) => entry.key)).toEqual(['dz']);
    });

    it('stores JSON records and reads them back typed', async () => {
      const plane = await open();
      const key = nodeKey(9);
      await plane.put(key, encodeRecord(key, { id: 9, zone: 'eu-1' }));
      const entry = await plane.get(key);
      const record = readRecord(key, entry!.value, (value) => {
        if (!isRecord(value) || typeof value.zone !== 'string') throw new Error('zone must be a string');
        return { zone: value.zone };
      });
      expect(record).toEqual({ zone: 'eu-1' });
    });
  });

  describe(`control plane on ${label}: compare-and-swap`, () => {
    it('creates a key only when absent, and answers the holder otherwise', async () => {
      const plane = await open();
      const claim = (owner: string) =>
        plane.txn({
          compare: [absent('lock')],
          success: [{ type: 'put', key: 'lock', value: bytes(owner) }],
          failure: [{ type: 'get', key: 'lock' }],
        });
      const won = await claim('first');
      expect(won.succeeded).toBe(true);
      expect(won.results).toEqual([{ type: 'put' }]);
      const lost = await claim('second');
      expect(lost.succeeded).toBe(false);
      const [held] = lost.results;
      expect(held?.type === 'get' ? text(held.entry?.value) : undefined).toBe('first');
    });

    it('compares on value, version, create and mod revision with each operator', async () => {
      const plane = await open();
      const created = await plane.put('k', bytes('b'));
      const updated = await plane.put('k', bytes('c'));
      const holds = async (compare: Parameters<ControlPlane['txn']>[0]['compare'][number]) =>
        (await plane.txn({ compare: [compare], success: [] })).succeeded;
      expect(await holds(valueIs('k', bytes('c')))).toBe(true);
      expect(await holds(valueIs('k', bytes('b')))).toBe(false);
      expect(await holds({ key: 'k', target: 'value', operator: '>', operand: bytes('b') })).toBe(true);
      expect(await holds({ key: 'k', target: 'value', operator: '<', operand: bytes('b') })).toBe(false);
      expect(await holds({ key: 'k', target: 'version', operator: '=', operand: 2 })).toBe(true);
      expect(await holds({ key: 'k', target: 'version', operator: '!=', operand: 2 })).toBe(false);
      expect(
        await holds({ key: 'k', target: 'createRevision', operator: '=', operand: created.revision }),
      ).toBe(true);
      expect(await holds(unchangedSince('k', updated.revision))).toBe(true);
      expect(await holds(unchangedSince('k', created.revision))).toBe(false);
      expect(
        await holds({ key: 'k', target: 'modRevision', operator: '<', operand: updated.revision + 1 }),
      ).toBe(true);
    });

    it('runs a branch of puts, deletes and gets as one revision', async () => {
      const plane = await open();
      await plane.put('old/1', bytes('x'));
      await plane.put('old/2', bytes('y'));
      const answer = await plane.txn({
        compare: [absent('new')],
        success: [
          { type: 'put', key: 'new', value: bytes('n') },
          { type: 'delete', key: 'old/', prefix: true },
          { type: 'get', key: 'new' },
        ],
      });
      expect(answer.succeeded).toBe(true);
      expect(answer.results[1]).toEqual({ type: 'delete', deleted: 2 });
      const got = answer.results[2];
      expect(got?.type === 'get' ? got.entry?.modRevision : undefined).toBe(answer.revision);
      expect((await plane.range('')).entries.map((entry) => entry.key)).toEqual(['new']);
    });
  });

  describe(`control plane on ${label}: watch`, () => {
    it('delivers puts and deletes under the prefix in revision order, from a revision', async () => {
      const plane = await open();
      const before = await plane.put('w/a', bytes('1'));
      await plane.put('elsewhere', bytes('not watched'));
      const added = await plane.put('w/b', bytes('2'));
      const removed = await plane.delete('w/a');
      const watch = await plane.watch('w/', { fromRevision: before.revision });
      const events = await takeEvents(watch, 3);
      // The revisions each write answered, not counted on: a node's own services may write to
      // the control plane between the test's writes.
      expect(events.map(describeEvent)).toEqual([
        `put w/a=1@${before.revision}`,
        `put w/b=2@${added.revision}`,
        `delete w/a@${removed.revision}`,
      ]);
      expect(added.revision).toBeGreaterThan(before.revision + 1);
      expect(removed.revision).toBeGreaterThan(added.revision);
      expect(watch.nextRevision).toBe(removed.revision + 1);
      watch.cancel();
    });

    it('without a revision, delivers only changes after it started, and ends on cancel', async () => {
      const plane = await open();
      await plane.put('w/old', bytes('before'));
      const watch = await plane.watch('w/');
      const written = await plane.put('w/new', bytes('after'));
      const [event] = await takeEvents(watch, 1);
      expect(event && describeEvent(event)).toBe(`put w/new=after@${written.revision}`);
      const iterator = watch[Symbol.asyncIterator]();
      const pending = iterator.next();
      watch.cancel();
      expect((await pending).done).toBe(true);
    });

    it('gives a reader that fell far behind every event once, in order', async () => {
      const plane = await open();
      const watch = await plane.watch('slow/');
      // More events than a MeshOS watcher buffers (1,024) before the node cancels it as slow.
      const expected: string[] = [];
      for (let batch = 0; batch < SLOW_READER_BATCHES; batch++) {
        const keys = Array.from(
          { length: MAX_CONTROL_TXN_OPERATIONS },
          (_, index) => `slow/${batch}/${index}`,
        );
        const answer = await plane.txn({
          compare: [],
          success: keys.map((key) => ({ type: 'put' as const, key, value: bytes(key) })),
        });
        for (const key of keys) expected.push(`put ${key}=${key}@${answer.revision}`);
      }
      const events = await takeEvents(watch, expected.length, 60_000);
      expect(events.map(describeEvent)).toEqual(expected);
      watch.cancel();
    }, 90_000);

    it('ends with CONTROL_COMPACTED when its revision is compacted; re-listing and watching again resumes', async () => {
      const plane = await open();
      const first = await plane.put('c/1', bytes('1'));
      await plane.put('c/2', bytes('2'));
      const last = await plane.put('c/3', bytes('3'));
      await fixture.compact(last.revision);
      // A store may refuse the watch at once or end it on the first read; either way, typed.
      const stale = await plane
        .watch('c/', { fromRevision: first.revision })
        .then((watch) => takeEvents(watch, 1))
        .catch((error: unknown) => error);
      expect(isMeshError(stale, 'CONTROL_COMPACTED'), String(stale)).toBe(true);
      expect((stale as { compactRevision?: number }).compactRevision).toBe(last.revision);
      const listing = await plane.range('c/');
      expect(listing.entries).toHaveLength(3);
      const watch = await plane.watch('c/', { fromRevision: listing.revision + 1 });
      const next = await plane.put('c/4', bytes('4'));
      const [event] = await takeEvents(watch, 1);
      expect(event && describeEvent(event)).toBe(`put c/4=4@${next.revision}`);
      watch.cancel();
    });

    it('ends a watch with CONTROL_CLOSED when the plane closes', async () => {
      const plane = await fixture.open(freshRoot(label));
      const watch = await plane.watch('x/');
      const pending = watch[Symbol.asyncIterator]().next();
      await plane.close();
      await expectCode(pending, 'CONTROL_CLOSED');
      await expectCode(plane.get('x'), 'CONTROL_CLOSED');
    });
  });

  describe(`control plane on ${label}: leases`, () => {
    it('grants, attaches keys, answers time to live, and revokes with the keys', async () => {
      const plane = await open();
      const lease = await plane.grantLease(30);
      expect(lease.ttlSeconds).toBe(30);
      await plane.put('l/a', bytes('a'), { lease: lease.id });
      await plane.put('l/b', bytes('b'), { lease: lease.id });
      expect((await plane.get('l/a'))?.lease).toBe(lease.id);
      const ttl = await plane.leaseTimeToLive(lease.id);
      expect(ttl?.grantedTtlSeconds).toBe(30);
      expect(ttl?.remainingSeconds).toBeGreaterThan(0);
      expect(ttl?.remainingSeconds).toBeLessThanOrEqual(30);
      expect(await plane.renewLease(lease.id)).toBe(30);
      await plane.revokeLease(lease.id);
      expect((await plane.range('l/')).entries).toEqual([]);
      expect(await plane.leaseTimeToLive(lease.id)).toBeUndefined();
      await expectCode(plane.revokeLease(lease.id), 'CONTROL_LEASE_NOT_FOUND');
      await expectCode(plane.renewLease(lease.id), 'CONTROL_LEASE_NOT_FOUND');
      await expectCode(plane.put('l/c', bytes('c'), { lease: lease.id }), 'CONTROL_LEASE_NOT_FOUND');
    });

    it('keeps a short lease alive past its TTL while the keep-alive runs', async () => {
      const plane = await open();
      const lease = await plane.grantLease(2);
      await plane.put('alive', bytes('yes'), { lease: lease.id });
      const losses: LeaseLoss[] = [];
      const keeper = plane.keepAlive(lease.id, { onLost: (loss) => losses.push(loss) });
      // Six renewals at a third of the TTL each span two full TTLs.
      await until(() => keeper.renewals >= 6 || losses.length > 0, 'six renewals');
      expect(losses).toEqual([]);
      expect(text((await plane.get('alive'))?.value)).toBe('yes');
      keeper.stop();
      await plane.revokeLease(lease.id);
    });

    it('tells the keep-alive owner when the lease is revoked elsewhere', async () => {
      const plane = await open();
      const lease = await plane.grantLease(6);
      const keeper = plane.keepAlive(lease.id);
      await until(() => keeper.renewals >= 1, 'a first renewal');
      await plane.revokeLease(lease.id);
      const loss = await keeper.lost;
      expect(loss.reason).toBe('not-found');
      expect(isMeshError(loss.error, 'CONTROL_LEASE_NOT_FOUND')).toBe(true);
    });

    it('expires a lease whose owner stopped renewing: its keys go, and the owner is told', async () => {
      const clock = new HoldableClock();
      const owner = await open({ clock });
      const observer = await open();
      // Both planes see the same store; the owner's root differs, so watch through the owner's keys.
      const lease = await owner.grantLease(2);
      await owner.put('member', bytes('here'), { lease: lease.id });
      const watch = await owner.watch('member');
      const keeper = owner.keepAlive(lease.id);
      await until(() => keeper.renewals >= 1, 'a first renewal');
      clock.hold();
      const [gone] = await takeEvents(watch, 1, 20_000);
      expect(gone?.type).toBe('delete');
      expect(await owner.get('member')).toBeUndefined();
      expect(await owner.leaseTimeToLive(lease.id)).toBeUndefined();
      clock.release();
      const loss = await keeper.lost;
      expect(['deadline-passed', 'not-found']).toContain(loss.reason);
      await expectCode(observer.renewLease(lease.id), 'CONTROL_LEASE_NOT_FOUND');
    });
  });

  describe(`control plane on ${label}: typed errors`, () => {
    it('refuses bad keys and values before sending them', async () => {
      const plane = await open();
      await expectCode(plane.put('', bytes('x')), 'CONTROL_BAD_KEY');
      await expectCode(plane.get('a\u0001b'), 'CONTROL_BAD_KEY');
      await expectCode(plane.put('k'.repeat(MAX_CONTROL_KEY_BYTES), bytes('x')), 'CONTROL_BAD_KEY');
      await expectCode(plane.put('big', new Uint8Array(MAX_CONTROL_VALUE_BYTES + 1)), 'CONTROL_BAD_VALUE');
      const largest = await plane.put('big', new Uint8Array(MAX_CONTROL_VALUE_BYTES).fill(7));
      expect((await plane.get('big'))?.modRevision).toBe(largest.revision);
      await expectCode(
        plane.txn({
          compare: [],
          success: [{ type: 'put', key: 'ok', value: new Uint8Array(MAX_CONTROL_VALUE_BYTES + 1) }],
        }),
        'CONTROL_BAD_VALUE',
      );
    });

    it('refuses out-of-range limits, revisions, TTLs, lease ids and oversized txns', async () => {
      const plane = await open();
      await expectCode(plane.range('', { limit: 0 }), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.range('', { limit: MAX_CONTROL_RANGE_LIMIT + 1 }), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.get('k', { revision: -1 }), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.grantLease(1), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.grantLease(2.5), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.revokeLease(0), 'CONTROL_BAD_REQUEST');
      await expectCode(plane.range('a/', { startAfter: 'b/1' }), 'CONTROL_BAD_REQUEST');
      const tooMany = Array.from({ length: MAX_CONTROL_TXN_OPERATIONS + 1 }, (_, index) => ({
        type: 'get' as const,
        key: `k${index}`,
      }));
      await expectCode(plane.txn({ compare: [], success: tooMany }), 'CONTROL_BAD_REQUEST');
      expect(() => plane.keepAlive(-3)).toThrow(/lease id/);
    });

    it('answers a future revision with CONTROL_FUTURE_REVISION', async () => {
      const plane = await open();
      const written = await plane.put('k', bytes('v'));
      await expectCode(plane.get('k', { revision: written.revision + 1_000_000 }), 'CONTROL_FUTURE_REVISION');
    });
  });

  return { fixture: () => fixture };
}
