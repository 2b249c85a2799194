import { describe, expect, it } from 'vitest';
import type { WatchResponse } from '../../../src/kv/index.js';
import type { Entry } from '../../../src/raft/index.js';
import { encodeNodeCommand, NodeStateMachine } from '../../../src/server/index.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

function putEntry(index: number, key: string, value: string): Entry {
  return {
    term: 1,
    index,
    kind: 'normal',
    data: encodeNodeCommand({ type: 'kv', command: { type: 'put', key: bytes(key), value: bytes(value) } }),
  };
}

/** What a watcher has delivered so far, as `key=value@revision` (or the cancellation). */
function delivered(responses: readonly WatchResponse[]): string[] {
  return responses.flatMap((response) =>
    response.canceled === true
      ? [`canceled compactRevision=${response.compactRevision}`]
      : response.events.map(
          (event) => `${text(event.kv.key)}=${text(event.kv.value)}@${event.kv.modRevision}`,
        ),
  );
}

describe('watchers of a node that installs a snapshot', () => {
  it('see the changes the snapshot carried (from history), then the later ones, none lost', () => {
    const leader = new NodeStateMachine();
    const follower = new NodeStateMachine();
    leader.apply(putEntry(1, 'chains/a', 'epoch-1'));
    follower.apply(putEntry(1, 'chains/a', 'epoch-1'));
    const watcher = follower.watches.watch({ key: bytes('chains/'), prefix: true });
    // The follower falls behind; the leader moves on and the follower installs its snapshot.
    leader.apply(putEntry(2, 'chains/a', 'epoch-2'));
    leader.apply(putEntry(3, 'chains/b', 'epoch-1'));
    follower.restore(leader.snapshot());
    follower.apply(putEntry(4, 'chains/a', 'epoch-3'));
    leader.apply(putEntry(4, 'chains/a', 'epoch-3'));
    // Before the fix the watcher went straight from epoch-1 to epoch-3: a's epoch 2 and b were lost.
    expect(delivered(watcher.drain())).toEqual([
      'chains/a=epoch-2@3',
      'chains/b=epoch-1@4',
      'chains/a=epoch-3@5',
    ]);
    expect(watcher.synced).toBe(true);
  });
});
