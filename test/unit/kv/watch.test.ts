import { describe, expect, it } from 'vitest';
import { KvStateMachine, WatchHub, type WatchResponse } from '../../../src/kv/index.js';
import { bytes, Harness, text } from './helpers.js';

/** A store whose every apply is published to a watch hub, as the server will wire it. */
class Watched extends Harness {
  readonly hub: WatchHub;
  constructor(options: ConstructorParameters<typeof WatchHub>[1] = {}) {
    super(new KvStateMachine());
    this.hub = new WatchHub(this.machine, options);
  }
  override run(command: Parameters<Harness['run']>[0]) {
    const outcome = super.run(command);
    this.hub.publish(outcome.events, outcome.revision);
    return outcome;
  }
}

const summary = (responses: readonly WatchResponse[]) =>
  responses.flatMap((response) =>
    response.events.map(
      (event) => `${response.revision}:${event.type}:${text(event.kv.key)}=${text(event.kv.value)}`,
    ),
  );

describe('watch', () => {
  it('delivers new changes to a key or prefix, one response per revision', () => {
    const store = new Watched();
    const single = store.hub.watch({ key: bytes('a') });
    const prefixed = store.hub.watch({ key: bytes('a'), prefix: true });
    store.put('a', '1');
    store.put('ab', '2');
    store.put('b', '3');
    store.run({ type: 'deleteRange', key: bytes('a') });
    expect(summary(single.drain())).toEqual(['2:put:a=1', '5:delete:a=']);
    expect(summary(prefixed.drain())).toEqual(['2:put:a=1', '3:put:ab=2', '5:delete:a=']);
  });

  it('groups the changes of one txn into one response in order', () => {
    const store = new Watched();
    const watcher = store.hub.watch({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    store.run({
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: bytes('z'), value: bytes('1') },
        { type: 'put', key: bytes('m'), value: bytes('2') },
      ],
      failure: [],
    });
    const responses = watcher.drain();
    expect(responses.length).toBe(1);
    expect(summary(responses)).toEqual(['2:put:z=1', '2:put:m=2']);
  });

  it('replays history from a past start revision, then continues live', () => {
    const store = new Watched();
    store.put('a', '1'); // 2
    store.put('b', '1'); // 3
    store.put('a', '2'); // 4
    const watcher = store.hub.watch({ key: bytes('a'), startRevision: 3, prevKv: true });
    store.put('a', '3'); // 5
    const responses = watcher.drain();
    expect(summary(responses)).toEqual(['4:put:a=2', '5:put:a=3']);
    expect(text(responses[0]?.events[0]?.prevKv?.value ?? new Uint8Array())).toBe('1');
    expect(text(responses[1]?.events[0]?.prevKv?.value ?? new Uint8Array())).toBe('2');
  });

  it('cancels a watch whose start revision is compacted, carrying the compact revision', () => {
    const store = new Watched();
    store.put('a', '1');
    store.put('a', '2');
    store.put('a', '3');
    store.ok({ type: 'compact', revision: 3 }, 'compact');
    const compacted = store.hub.watch({ key: bytes('a'), startRevision: 2 });
    const [response] = compacted.drain();
    expect(response).toMatchObject({ canceled: true, compactRevision: 3 });
    expect(compacted.canceled).toBe(true);
    const atCompact = store.hub.watch({ key: bytes('a'), startRevision: 3 });
    expect(summary(atCompact.drain())).toEqual(['3:put:a=2', '4:put:a=3']);
    expect(store.hub.stats.canceledCompacted).toBe(1);
  });

  it('applies the no-put and no-delete filters', () => {
    const store = new Watched();
    const noPut = store.hub.watch({ key: bytes('a'), noPut: true });
    const noDelete = store.hub.watch({ key: bytes('a'), noDelete: true });
    store.put('a', '1');
    store.run({ type: 'deleteRange', key: bytes('a') });
    expect(summary(noPut.drain())).toEqual(['3:delete:a=']);
    expect(summary(noDelete.drain())).toEqual(['2:put:a=1']);
  });

  it('sends progress only to idle synced watchers', () => {
    const store = new Watched();
    const idle = store.hub.watch({ key: bytes('a') });
    const busy = store.hub.watch({ key: bytes('b') });
    store.put('b', '1');
    store.put('c', '1');
    store.hub.progress();
    expect(idle.drain()).toEqual([{ watchId: idle.id, revision: 3, events: [], progress: true }]);
    const busyResponses = busy.drain();
    expect(busyResponses.some((response) => response.progress === true)).toBe(false);
  });

  it('cancels a watcher too slow for its buffer without touching others or blocking apply', () => {
    const store = new Watched({ bufferEvents: 4 });
    const slow = store.hub.watch({ key: bytes('k'), prefix: true });
    const fast = store.hub.watch({ key: bytes('k'), prefix: true });
    for (let round = 0; round < 10; round++) {
      store.put(`k${round}`, 'v');
      fast.drain();
    }
    const responses = slow.drain();
    expect(responses.length).toBe(5); // four events, then the cancellation
    expect(responses.at(-1)).toMatchObject({ canceled: true });
    expect(responses.at(-1)?.cancelReason).toContain('fell behind');
    expect(fast.canceled).toBe(false);
    expect(store.hub.stats).toMatchObject({ watchers: 1, canceledSlow: 1 });
    expect(store.machine.revision).toBe(11);
  });

  it('paces a long catch-up through the bounded buffer instead of cancelling it', () => {
    const store = new Watched({ bufferEvents: 8, catchUpBatchEvents: 3 });
    for (let round = 0; round < 50; round++) store.put(`k${round % 5}`, String(round));
    const watcher = store.hub.watch({ key: bytes('k'), prefix: true, startRevision: 1 });
    expect(watcher.bufferedEvents).toBeLessThanOrEqual(8);
    const seen = summary(watcher.drain());
    expect(seen.length).toBe(50);
    expect(seen[0]).toBe('2:put:k0=0');
    expect(seen[49]).toBe('51:put:k4=49');
    store.put('k1', 'live');
    expect(summary(watcher.drain())).toEqual(['52:put:k1=live']);
  });

  it('delivers through the async iterator and ends after a cancel', async () => {
    const store = new Watched();
    const watcher = store.hub.watch({ key: bytes('a') });
    const received: WatchResponse[] = [];
    const consumer = (async () => {
      for await (const response of watcher) received.push(response);
    })();
    store.put('a', '1');
    await Promise.resolve();
    watcher.cancel();
    await consumer;
    expect(summary(received)).toEqual(['2:put:a=1']);
    expect(received.at(-1)).toMatchObject({ canceled: true, cancelReason: 'canceled by the client' });
    expect(store.hub.stats.watchers).toBe(0);
  });

  it('cancels the watch when the consumer leaves a for-await loop early', async () => {
    const store = new Watched();
    const watcher = store.hub.watch({ key: bytes('a') });
    store.put('a', '1');
    for await (const response of watcher) {
      expect(response.events.length).toBe(1);
      break;
    }
    expect(watcher.canceled).toBe(true);
    expect(store.hub.stats.watchers).toBe(0);
  });

  it('refuses a bad range with a typed error', () => {
    const store = new Watched();
    expect(() => store.hub.watch({ key: bytes('b'), rangeEnd: bytes('a') })).toThrow(
      'range end sorts before',
    );
  });
});

describe('a watch from a future revision', () => {
  it('delivers nothing before its start revision', () => {
    const machine = new KvStateMachine();
    const hub = new WatchHub(machine);
    const watcher = hub.watch({ key: bytes('f'), startRevision: 4 });
    for (let index = 1; index <= 4; index++) {
      const outcome = machine.applyCommand(index, {
        type: 'put',
        key: bytes('f'),
        value: bytes(`v${index}`),
      });
      hub.publish(outcome.events, outcome.revision);
    }
    const revisions = watcher
      .drain()
      .flatMap((response) => response.events.map((event) => event.kv.modRevision));
    expect(revisions).toEqual([4, 5]);
  });
});
