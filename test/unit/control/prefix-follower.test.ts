import { describe, expect, it } from 'vitest';
import {
  ControlCompactedError,
  type ControlEntry,
  type ControlEvent,
  type ControlPlane,
  type ControlRangeAnswer,
  type ControlWatch,
  openControlPlane,
  PrefixFollower,
} from '../../../src/control/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';
import { until } from '../../support/until.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const values = (entries: ReadonlyMap<string, ControlEntry>) =>
  Object.fromEntries([...entries].map(([key, entry]) => [key, decoder.decode(entry.value)]));

describe('PrefixFollower on a node backend', () => {
  it('lists the prefix, then follows puts and deletes under it', async () => {
    const backend = new LocalKvBackend({ clock: new ManualClock() });
    const plane = await openControlPlane({ kind: 'in-process', backend });
    await plane.put('nodes/1', bytes('a'));
    await plane.put('nodes/2', bytes('b'));
    await plane.put('other', bytes('x'));
    const resets: Array<Record<string, string>> = [];
    const events: ControlEvent[] = [];
    const follower = new PrefixFollower(plane, 'nodes/', {
      onReset: (entries) => resets.push(values(entries)),
      onEvent: (event) => events.push(event),
    });
    await until(() => resets.length === 1, 'the first listing');
    expect(resets).toEqual([{ 'nodes/1': 'a', 'nodes/2': 'b' }]);
    await plane.put('nodes/3', bytes('c'));
    await plane.delete('nodes/1');
    await until(() => events.length === 2, 'two events');
    expect(values(follower.entries)).toEqual({ 'nodes/2': 'b', 'nodes/3': 'c' });
    follower.stop();
    await follower.done;
    await plane.close();
    backend.close();
  });
});

describe('PrefixFollower after a compaction', () => {
  it('pages a listing at one revision; after a compaction lists again and hands the owner the whole new state', async () => {
    const entry = (key: string, revision: number): ControlEntry => ({
      key,
      value: bytes(key),
      createRevision: revision,
      modRevision: revision,
      version: 1,
      lease: 0,
    });
    const listings: ControlRangeAnswer[] = [
      { entries: [entry('n/0', 2)], revision: 5, more: true },
      { entries: [entry('n/1', 3)], revision: 5, more: false },
      { entries: [entry('n/2', 8)], revision: 9, more: false },
    ];
    const watchedFrom: number[] = [];
    const ranges: object[] = [];
    const watches: Array<() => AsyncGenerator<ControlEvent>> = [
      async function* () {
        yield* [];
        throw new ControlCompactedError(7);
      },
      async function* () {
        yield { type: 'put', entry: entry('n/3', 10) };
        await new Promise(() => {});
      },
    ];
    // Only what the follower calls: range and watch.
    const plane = {
      range: async (_prefix: string, options: object = {}) => {
        ranges.push(options);
        return listings.shift()!;
      },
      watch: async (_prefix: string, options: { fromRevision: number }): Promise<ControlWatch> => {
        watchedFrom.push(options.fromRevision);
        const events = watches.shift()!();
        return { nextRevision: options.fromRevision, cancel: () => {}, [Symbol.asyncIterator]: () => events };
      },
    } as unknown as ControlPlane;
    const resets: Array<Record<string, string>> = [];
    const follower = new PrefixFollower(plane, 'n/', { onReset: (entries) => resets.push(values(entries)) });
    await until(() => follower.entries.has('n/3'), 'the event after the second listing');
    expect(resets).toEqual([{ 'n/0': 'n/0', 'n/1': 'n/1' }, { 'n/2': 'n/2' }]);
    expect(ranges).toEqual([{}, { revision: 5, startAfter: 'n/0' }, {}]);
    expect(watchedFrom).toEqual([6, 10]);
    expect(values(follower.entries)).toEqual({ 'n/2': 'n/2', 'n/3': 'n/3' });
    expect(follower.resetCount).toBe(2);
    follower.stop();
  });
});
