import { afterEach, describe, expect, it } from 'vitest';
import { createTcpTransport, type PeerTransport } from '../../../src/transport/index.js';
import { CLUSTER_ID, collectMessages, decodeText, encodeText, nextEvent } from './helpers.js';

const running: PeerTransport[] = [];

function plaintext(nodeId: number, port = 0): PeerTransport {
  const transport = createTcpTransport({
    nodeId,
    clusterId: CLUSTER_ID,
    listenAddress: { host: '127.0.0.1', port },
    insecure: true,
    reconnectBackoffMinMs: 10,
    reconnectBackoffMaxMs: 200,
  });
  running.push(transport);
  return transport;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((transport) => transport.stop()));
});

describe('PeerTransport over plaintext TCP on 127.0.0.1', () => {
  it('delivers a burst, then reconnects and delivers after the peer restarts', async () => {
    const first = plaintext(1);
    const second = plaintext(2);
    const firstAddress = await first.start();
    const secondAddress = await second.start();
    first.setPeers(new Map([[2, secondAddress]]));
    second.setPeers(new Map([[1, firstAddress]]));

    const burst = collectMessages(second, 1000);
    for (let index = 0; index < 1000; index++) first.send(2, encodeText(`burst ${index}`));
    const received = await burst;
    expect(received.map((message) => decodeText(message.payload))).toEqual(
      Array.from({ length: 1000 }, (_unused, index) => `burst ${index}`),
    );
    expect(first.counters.sentFrames).toBeLessThan(1000);

    const lost = nextEvent((handler) => first.onUnreachable(handler));
    const peerLost = nextEvent((handler) => first.onPeerLost(handler));
    await second.stop();
    expect(await lost).toBe(2);
    // The established connection closed: a hint that the peer died, not just a failed dial.
    expect(await peerLost).toBe(2);

    const restarted = plaintext(2, secondAddress.port);
    const relinked = nextEvent((handler) => first.onConnected(handler));
    const arrived = collectMessages(restarted, 1);
    await restarted.start();
    expect(await relinked).toBe(2);
    first.send(2, encodeText('after restart'));
    expect(decodeText((await arrived)[0]!.payload)).toBe('after restart');
  });
});
