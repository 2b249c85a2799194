import { describe, expect, it } from 'vitest';
import {
  ControlCompactedError,
  type ControlEvent,
  ControlKeys,
  ControlUnavailableError,
  WATCH_RESUME_MAX_ATTEMPTS,
} from '../../../src/control/index.js';
import { ResumingWatch } from '../../../src/control/resuming-watch.js';
import type { StoreEvent, StoreWatch } from '../../../src/control/store.js';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';

const keys = new ControlKeys('/root/');
const encoder = new TextEncoder();

function put(key: string, revision: number): StoreEvent {
  return {
    type: 'put',
    kv: {
      key: keys.key(key),
      value: encoder.encode(key),
      createRevision: revision,
      modRevision: revision,
      version: 1,
      lease: 0,
    },
  };
}

/** A store watch that hands out its events, then fails with `end` (or waits forever if none). */
function scriptedWatch(events: StoreEvent[], end?: Error): StoreWatch {
  const queue = [...events];
  return {
    async next() {
      const event = queue.shift();
      if (event !== undefined) return event;
      if (end !== undefined) throw end;
      return new Promise<never>(() => {});
    },
    close() {},
  };
}

const describeEvent = (event: ControlEvent): string =>
  event.type === 'put' ? `${event.entry.key}@${event.entry.modRevision}` : `-${event.key}@${event.revision}`;

function resumingWatch(opens: Array<StoreWatch | Error>, clock: ManualClock, from: number[]) {
  return new ResumingWatch(
    {
      open: async (startRevision) => {
        from.push(startRevision);
        const next = opens.shift();
        if (next === undefined || next instanceof Error) throw next ?? new ControlUnavailableError('down');
        return next;
      },
      keys,
      clock,
      random: new SeededRandom(3),
      onEnd: () => {},
    },
    5,
    scriptedWatch([put('a', 5)], new ControlUnavailableError('connection lost')),
  );
}

/** Reads `count` events, moving the manual clock so the watch's backoff sleeps end. */
async function read(watch: ResumingWatch, count: number, clock: ManualClock): Promise<string[]> {
  const iterator = watch[Symbol.asyncIterator]();
  const seen: string[] = [];
  while (seen.length < count) {
    const next = iterator.next();
    let settled = false;
    next.finally(() => (settled = true)).catch(() => {});
    while (!settled) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await next;
    if (result.done === true) break;
    seen.push(describeEvent(result.value));
  }
  return seen;
}

describe('ResumingWatch', () => {
  it('re-opens from the last delivered revision and skips the events of it already delivered', async () => {
    const clock = new ManualClock();
    const from: number[] = [];
    // Revision 5 holds two events (one txn); the first stream broke after delivering one.
    const watch = resumingWatch([scriptedWatch([put('a', 5), put('b', 5), put('c', 6)])], clock, from);
    expect(await read(watch, 3, clock)).toEqual(['a@5', 'b@5', 'c@6']);
    expect(from).toEqual([5]);
    expect(watch.nextRevision).toBe(7);
  });

  it('keeps trying through failed re-opens', async () => {
    const clock = new ManualClock();
    const from: number[] = [];
    const down = new ControlUnavailableError('down');
    const watch = resumingWatch([down, down, scriptedWatch([put('a', 5), put('b', 7)])], clock, from);
    expect(await read(watch, 2, clock)).toEqual(['a@5', 'b@7']);
    expect(from).toEqual([5, 5, 5]);
  });

  it('ends with CONTROL_COMPACTED, which no re-open can cure', async () => {
    const clock = new ManualClock();
    const watch = resumingWatch([new ControlCompactedError(9)], clock, []);
    await expect(read(watch, 2, clock)).rejects.toBeInstanceOf(ControlCompactedError);
  });

  it(`gives up with CONTROL_UNAVAILABLE after ${WATCH_RESUME_MAX_ATTEMPTS} failed attempts`, async () => {
    const clock = new ManualClock();
    const from: number[] = [];
    const watch = resumingWatch([], clock, from);
    await expect(read(watch, 2, clock)).rejects.toThrow(/could not be resumed/);
    expect(from).toHaveLength(WATCH_RESUME_MAX_ATTEMPTS - 1);
  });
});
