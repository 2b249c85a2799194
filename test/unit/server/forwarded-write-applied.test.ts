/**
 * A follower answers a write it forwarded once it applied the write itself (what the leader had
 * applied when it answered), as an etcd member answers after its own apply: what the client does
 * next on that member (a serializable read here) sees the write, even when the leader's answer
 * outruns the commit on the follower's Raft link.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KvCluster } from './kv-cluster.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('a write forwarded by a follower', () => {
  let cluster: KvCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('is answered once the follower applied it, not when the leader answered', async () => {
    cluster = new KvCluster([1, 2, 3], { forwarding: true });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const follower = [...cluster.nodes.values()].find((entry) => entry.id !== leader.id)!;
    const backend = cluster.backend(follower);
    cluster.backend(leader);
    await backend.execute({ type: 'put', key: bytes('warm'), value: bytes('1') });
    // Raft messages into the follower wait; the forwarded request and its answer do not.
    cluster.links.hold(follower.id);
    const seenWhenAnswered = backend
      .execute({ type: 'put', key: bytes('k'), value: bytes('v') })
      .then(
        async () => (await backend.range({ type: 'range', key: bytes('k'), serializable: true })).kvs.length,
      );
    const leaderBackend = cluster.backend(leader);
    const deadline = Date.now() + 10_000;
    while (
      (await leaderBackend.range({ type: 'range', key: bytes('k'), serializable: true })).kvs.length === 0
    ) {
      if (Date.now() > deadline) throw new Error('the leader never applied the write');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    cluster.links.release(follower.id);
    expect(await seenWhenAnswered).toBe(1);
  });
});
