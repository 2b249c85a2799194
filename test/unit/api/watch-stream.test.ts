/** The Watch stream session with a stand-in call whose writes the test controls. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type WatchCall, WatchStreamSession } from '../../../src/api/watch-stream.js';
import { ManualClock } from '../../../src/lib/index.js';
import { silentLogger } from '../../../src/lib/node/index.js';
import type { Int64Out, PbWatchResponse } from '../../../src/protocol/index.js';
import { MessageQueue } from '../../support/etcd-harness.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const BUFFER_EVENTS = 4;

class FakeCall extends EventEmitter {
  readonly written = new MessageQueue<PbWatchResponse<Int64Out>>();
  accepting = true;
  ended = false;

  write(response: PbWatchResponse<Int64Out>): boolean {
    this.written.push(response);
    return this.accepting;
  }

  end(): void {
    this.ended = true;
  }
}

function setup(): {
  call: FakeCall;
  local: LocalKvBackend;
  session: WatchStreamSession;
  closed: () => boolean;
} {
  const local = new LocalKvBackend({ clock: new ManualClock(), watchBufferEvents: BUFFER_EVENTS });
  const call = new FakeCall();
  let closed = false;
  const session = new WatchStreamSession(call as unknown as WatchCall, local, silentLogger, () => {
    closed = true;
  });
  return { call, local, session, closed: () => closed };
}

function create(call: FakeCall, key: string): void {
  call.emit('data', {
    request_union: 'create_request',
    create_request: {
      key: bytes(key),
      range_end: new Uint8Array(0),
      start_revision: '0',
      progress_notify: false,
      filters: [],
      prev_kv: false,
      watch_id: '0',
      fragment: false,
    },
  });
}

describe('WatchStreamSession', () => {
  it('cancels a watch whose client stops reading, with a reason, once the stream drains', async () => {
    const { call, local, session } = setup();
    create(call, 'k');
    call.accepting = false;
    await local.execute({ type: 'put', key: bytes('k'), value: bytes('0') });
    await call.written.atLeast(2);
    // Progress is withheld while the watch waits on the stream.
    call.emit('data', { request_union: 'progress_request', progress_request: {} });
    for (let index = 1; index <= BUFFER_EVENTS + 1; index++) {
      await local.execute({ type: 'put', key: bytes('k'), value: bytes(String(index)) });
    }
    expect(call.written.all).toHaveLength(2);
    call.accepting = true;
    call.emit('drain');
    const written = await call.written.atLeast(2 + BUFFER_EVENTS + 1);
    const last = written.at(-1);
    expect(written.slice(2, -1).map((response) => response.events.length)).toEqual([1, 1, 1, 1]);
    expect(last?.canceled).toBe(true);
    expect(last?.cancel_reason).toContain('fell behind');
    expect(local.watchHub.stats.canceledSlow).toBe(1);
    expect(session.watchCount).toBe(0);
    local.close();
  });

  it('cancels every watch when the client ends the stream', async () => {
    const { call, local, session, closed } = setup();
    create(call, 'a');
    create(call, 'b');
    await call.written.atLeast(2);
    expect(local.watchHub.stats.watchers).toBe(2);
    call.emit('end');
    expect(closed()).toBe(true);
    expect(call.ended).toBe(true);
    expect(local.watchHub.stats.watchers).toBe(0);
    expect(session.watchCount).toBe(0);
    local.close();
  });
});
