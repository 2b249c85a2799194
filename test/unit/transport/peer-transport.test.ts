import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom, ValidationError } from '../../../src/lib/index.js';
import { endOfTurn } from '../../../src/lib/node/index.js';
import {
  createTcpTransport,
  encodeFrame,
  encodeHandshake,
  FrameType,
  HANDSHAKE_TIMEOUT_MS,
  InMemoryNetwork,
  MAX_MESSAGE_BYTES,
  type PeerTransport,
  PROTOCOL_VERSION,
  RECONNECT_BACKOFF_MAX_MS,
} from '../../../src/transport/index.js';
import {
  CLUSTER_ID,
  collectMessages,
  decodeText,
  encodeText,
  memoryAddress,
  memoryTransport,
  nextEvent,
} from './helpers.js';

async function connectedPair(network = new InMemoryNetwork(), clock = new ManualClock()) {
  const first = memoryTransport(network, clock, 1);
  const second = memoryTransport(network, clock, 2);
  const firstLinked = nextEvent((handler) => first.onConnected(handler));
  const secondLinked = nextEvent((handler) => second.onConnected(handler));
  // Both listen before either dials, so no first attempt fails into a backoff wait.
  await first.start();
  await second.start();
  first.setPeers(new Map([[2, memoryAddress(2)]]));
  second.setPeers(new Map([[1, memoryAddress(1)]]));
  await Promise.all([firstLinked, secondLinked]);
  return { network, clock, first, second };
}

function raw(network: InMemoryNetwork, nodeId: number) {
  return network.connect(memoryAddress(nodeId));
}

const PEER_5_HANDSHAKE = encodeFrame(
  encodeHandshake({ protocolVersion: PROTOCOL_VERSION, clusterId: CLUSTER_ID, nodeId: 5 }),
);

/** A raw connection to node 1 that introduces itself as node 5 and has been answered. */
async function handshakenAsPeer5(network: InMemoryNetwork) {
  const stream = await raw(network, 1);
  const answered = new Promise<void>((resolve) => stream.onData(() => resolve()));
  const closed = new Promise<void>((resolve) => stream.onClose(() => resolve()));
  stream.write(PEER_5_HANDSHAKE);
  await answered;
  return { stream, closed };
}

describe('PeerTransport over the in-memory network', () => {
  it('delivers messages both ways, in order, batched into few frames', async () => {
    const { first, second } = await connectedPair();
    const atSecond = collectMessages(second, 100);
    const atFirst = collectMessages(first, 1);
    for (let index = 0; index < 100; index++) expect(first.send(2, encodeText(`m${index}`))).toBe(true);
    second.send(1, encodeText('back'));
    const received = await atSecond;
    expect(received.map((message) => decodeText(message.payload))).toEqual(
      Array.from({ length: 100 }, (_unused, index) => `m${index}`),
    );
    expect(received.every((message) => message.from === 1)).toBe(true);
    expect((await atFirst)[0]).toMatchObject({ from: 2 });
    expect(first.counters.sentMessages).toBe(100);
    expect(first.counters.sentFrames).toBeLessThan(10);
    expect(second.counters.receivedMessages).toBe(100);
  });

  it('delivers intact when the network cuts every write into random pieces', async () => {
    const { first, second } = await connectedPair(new InMemoryNetwork({ chunking: new SeededRandom(3) }));
    const payloads = Array.from({ length: 50 }, (_unused, index) => new SeededRandom(index).bytes(index * 7));
    const arrived = collectMessages(second, payloads.length);
    for (const [index, payload] of payloads.entries()) {
      first.send(2, payload);
      // Yield now and then so messages travel in several frames, not one.
      if (index % 10 === 0) await Promise.resolve();
    }
    expect((await arrived).map((message) => message.payload)).toEqual(payloads);
  });

  it("links to the union of its owners' peer sets; one owner's change leaves the others' links", async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const [hub, second, third] = [1, 2, 3].map((id) => memoryTransport(network, clock, id)) as [
      PeerTransport,
      PeerTransport,
      PeerTransport,
    ];
    for (const transport of [hub, second, third]) await transport.start();
    const linked = (peer: number) =>
      nextEvent(
        (handler) => hub.onConnected(handler),
        (id) => id === peer,
      );
    const secondLinked = linked(2);
    hub.setPeerSet('raft', new Map([[2, memoryAddress(2)]]));
    await secondLinked;
    const thirdLinked = linked(3);
    hub.setPeerSet('membership', new Map([[3, memoryAddress(3)]]));
    await thirdLinked;
    expect(hub.linkedPeers().sort()).toEqual([2, 3]);
    // Membership forgets 3 and names 2: 2's link (Raft's) is the same one, 3's closes.
    hub.setPeerSet('membership', new Map([[2, memoryAddress(2)]]));
    expect(hub.linkedPeers()).toEqual([2]);
    expect(hub.isConnected(2)).toBe(true);
    hub.setPeerSet('membership', new Map());
    expect(hub.linkedPeers()).toEqual([2]);
    expect(hub.send(2, encodeText('still linked'))).toBe(true);
    expect(hub.send(3, encodeText('gone'))).toBe(false);
    hub.setPeerSet('raft', new Map());
    expect(hub.linkedPeers()).toEqual([]);
    for (const transport of [hub, second, third]) await transport.stop();
  });

  it('drops and counts sends to unknown peers and oversized messages', async () => {
    const { first } = await connectedPair();
    expect(first.send(9, encodeText('x'))).toBe(false);
    expect(first.send(2, new Uint8Array(MAX_MESSAGE_BYTES + 1))).toBe(false);
    expect(first.counters.droppedMessages).toMatchObject({ 'unknown-peer': 1, 'too-large': 1 });
  });

  it('bounds each peer queue by messages and bytes, dropping and counting the excess', () => {
    const network = new InMemoryNetwork();
    const transport = memoryTransport(network, new ManualClock(), 1, {
      sendQueueMessages: 5,
      sendQueueBytes: 100,
    });
    transport.setPeers(new Map([[2, memoryAddress(2)]]));
    const results = Array.from({ length: 7 }, () => transport.send(2, new Uint8Array(10)));
    expect(results).toEqual([true, true, true, true, true, false, false]);
    expect(transport.counters.droppedMessages['queue-full-messages']).toBe(2);
    transport.setPeers(new Map([[2, memoryAddress(2)]]));
    const other = memoryTransport(network, new ManualClock(), 3, {
      sendQueueMessages: 5,
      sendQueueBytes: 100,
    });
    other.setPeers(new Map([[2, memoryAddress(2)]]));
    expect([other.send(2, new Uint8Array(60)), other.send(2, new Uint8Array(60))]).toEqual([true, false]);
    expect(other.counters.droppedMessages['queue-full-bytes']).toBe(1);
    expect(transport.queuedMessages(2)).toBe(5);
  });

  it('reports a lost peer, redials with backoff, and delivers to it after it restarts', async () => {
    const { network, clock, first, second } = await connectedPair();
    const lost = nextEvent((handler) => first.onUnreachable(handler));
    await second.stop();
    expect(await lost).toBe(2);
    expect(first.isConnected(2)).toBe(false);
    // Sent while the peer is down: held in the bounded queue until the link is back.
    first.send(2, encodeText('while down'));

    const restarted = memoryTransport(network, clock, 2);
    restarted.setPeers(new Map([[1, memoryAddress(1)]]));
    const arrived = collectMessages(restarted, 2);
    await restarted.start();
    const relinked = nextEvent((handler) => first.onConnected(handler));
    clock.advance(RECONNECT_BACKOFF_MAX_MS);
    expect(await relinked).toBe(2);
    first.send(2, encodeText('after restart'));
    expect((await arrived).map((message) => decodeText(message.payload))).toEqual([
      'while down',
      'after restart',
    ]);
    expect(first.counters.linksEstablished).toBe(2);
  });

  it('tells a connection lost from its loss until a new one completes its handshake; not before the first one, nor for an inbound loss alone', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const lone = memoryTransport(network, clock, 3);
    await lone.start();
    lone.setPeers(new Map([[4, memoryAddress(4)]]));
    // Never connected yet (the peer may be starting): sends queue as always.
    expect(lone.connectionLost(4)).toBe(false);
    await lone.stop();

    const { first, second } = await connectedPair(network, clock);
    expect(first.connectionLost(2)).toBe(false);
    expect(first.connectionLost(9)).toBe(false);
    // The peer drops its link to this node only: this node's own link, which its sends take, is up.
    const inboundLost = nextEvent((handler) => first.onPeerLost(handler));
    second.setPeers(new Map());
    expect(await inboundLost).toBe(2);
    expect(first.isConnected(2)).toBe(true);
    expect(first.connectionLost(2)).toBe(false);

    const outboundLost = nextEvent((handler) => first.onUnreachable(handler));
    await second.stop();
    expect(await outboundLost).toBe(2);
    expect(first.connectionLost(2)).toBe(true);

    const restarted = memoryTransport(network, clock, 2);
    restarted.setPeers(new Map([[1, memoryAddress(1)]]));
    const relinked = nextEvent((handler) => first.onConnected(handler));
    await restarted.start();
    expect(await relinked).toBe(2);
    expect(first.connectionLost(2)).toBe(false);
    await Promise.all([first.stop(), restarted.stop()]);
  });

  it('redials a restarted peer as soon as it dials in, without waiting out the backoff', async () => {
    const { network, clock, first, second } = await connectedPair();
    const lost = nextEvent((handler) => first.onUnreachable(handler));
    await second.stop();
    await lost;

    const restarted = memoryTransport(network, clock, 2);
    restarted.setPeers(new Map([[1, memoryAddress(1)]]));
    const arrived = collectMessages(restarted, 1);
    const relinked = nextEvent((handler) => first.onConnected(handler));
    await restarted.start();
    // No time passes on the clock: only the restarted peer's own dial can wake the link.
    expect(await relinked).toBe(2);
    first.send(2, encodeText('to the restarted peer'));
    expect((await arrived).map((message) => decodeText(message.payload))).toEqual(['to the restarted peer']);
    await Promise.all([first.stop(), restarted.stop()]);
  });

  it('keeps redialing a peer that is not there, reporting it unreachable each time', async () => {
    const clock = new ManualClock();
    const transport = memoryTransport(new InMemoryNetwork(), clock, 1);
    const failures: number[] = [];
    let notify: () => void = () => {};
    transport.onUnreachable((peerId) => {
      failures.push(peerId);
      notify();
    });
    transport.setPeers(new Map([[2, memoryAddress(2)]]));
    await transport.start();
    for (let attempt = 1; attempt <= 4; attempt++) {
      if (failures.length < attempt) await new Promise<void>((resolve) => (notify = resolve));
      clock.advance(RECONNECT_BACKOFF_MAX_MS);
    }
    expect(failures).toEqual([2, 2, 2, 2]);
    expect(transport.counters.connectFailures).toBeGreaterThanOrEqual(4);
  });

  it('refuses and counts a peer from another cluster', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const server = memoryTransport(network, clock, 1);
    const stranger = memoryTransport(network, clock, 2, { clusterId: 'other-cluster' });
    stranger.setPeers(new Map([[1, memoryAddress(1)]]));
    const refused = nextEvent((handler) => server.onRefused(handler));
    const strangerSees = nextEvent((handler) => stranger.onRefused(handler));
    await server.start();
    await stranger.start();
    expect(await refused).toBe('wrong-cluster');
    expect(await strangerSees).toBe('closed-during-handshake');
    expect(server.counters.refusedPeers['wrong-cluster']).toBe(1);
    await Promise.all([server.stop(), stranger.stop()]);
  });

  it('refuses a peer that answers with another node id than the one dialed', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const dialer = memoryTransport(network, clock, 1);
    const impostor = memoryTransport(network, clock, 3, { listenAddress: memoryAddress(2) });
    dialer.setPeers(new Map([[2, memoryAddress(2)]]));
    const refused = nextEvent((handler) => dialer.onRefused(handler));
    await impostor.start();
    await dialer.start();
    expect(await refused).toBe('node-id-mismatch');
    expect(dialer.counters.refusedPeers['node-id-mismatch']).toBe(1);
  });

  it('refuses a connection that never completes its handshake', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const server = memoryTransport(network, clock, 1);
    await server.start();
    const stream = await raw(network, 1);
    const closed = new Promise<void>((resolve) => stream.onClose(() => resolve()));
    const refused = nextEvent((handler) => server.onRefused(handler));
    await Promise.resolve();
    clock.advance(HANDSHAKE_TIMEOUT_MS);
    expect(await refused).toBe('handshake-timeout');
    await closed;
  });

  it('refuses garbage before the handshake and counts bad frames after it', async () => {
    const network = new InMemoryNetwork();
    const server = memoryTransport(network, new ManualClock(), 1);
    await server.start();
    const garbage = await raw(network, 1);
    const refused = nextEvent((handler) => server.onRefused(handler));
    garbage.write(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(await refused).toBe('bad-handshake');

    const peer = await raw(network, 1);
    const answered = new Promise<void>((resolve) => peer.onData(() => resolve()));
    const closed = new Promise<void>((resolve) => peer.onClose(() => resolve()));
    peer.write(
      encodeFrame(encodeHandshake({ protocolVersion: PROTOCOL_VERSION, clusterId: CLUSTER_ID, nodeId: 5 })),
    );
    await answered;
    const arrived = collectMessages(server, 1);
    peer.write(encodeFrame({ type: FrameType.message, flags: 0, payload: encodeText('fine') }));
    expect((await arrived)[0]).toMatchObject({ from: 5 });
    peer.write(Uint8Array.from([0x4d, 0x01, 0x03, 0x00, 0, 0, 0, 2, 0, 0]));
    await closed;
    expect(server.counters.badFrames).toBe(1);
  });

  it('holds a stranger to a handshake-sized frame until it has identified itself', async () => {
    const network = new InMemoryNetwork();
    const server = memoryTransport(network, new ManualClock(), 1);
    await server.start();
    const stranger = await raw(network, 1);
    const closed = new Promise<void>((resolve) => stranger.onClose(() => resolve()));
    const refused = nextEvent((handler) => server.onRefused(handler));
    stranger.write(encodeFrame({ type: FrameType.handshake, flags: 0, payload: new Uint8Array(100_000) }));
    expect(await refused).toBe('bad-handshake');
    await closed;
  });

  it('keeps one inbound connection per peer, closing the older when a peer redials', async () => {
    const network = new InMemoryNetwork();
    const server = memoryTransport(network, new ManualClock(), 1);
    await server.start();
    const older = await handshakenAsPeer5(network);
    const newer = await raw(network, 1);
    let newerClosed = false;
    newer.onClose(() => {
      newerClosed = true;
    });
    const arrived = collectMessages(server, 1);
    newer.write(PEER_5_HANDSHAKE);
    await older.closed;
    newer.write(encodeFrame({ type: FrameType.message, flags: 0, payload: encodeText('on the newer link') }));
    expect(decodeText((await arrived)[0]!.payload)).toBe('on the newer link');
    expect(newerClosed).toBe(false);
  });

  it('writes queued messages at once on flush(), in one frame, not at the end of the turn', async () => {
    const { first, second } = await connectedPair();
    const arrived = collectMessages(second, 3);
    const framesBefore = first.counters.sentFrames;
    for (const text of ['a', 'b', 'c']) first.send(2, encodeText(text));
    expect(first.counters.sentFrames).toBe(framesBefore);
    first.flush();
    expect(first.counters.sentFrames).toBe(framesBefore + 1);
    expect(first.queuedMessages(2)).toBe(0);
    expect((await arrived).map((frame) => decodeText(frame.payload))).toEqual(['a', 'b', 'c']);
  });

  it("writes what the turn's deferred work sent with the turn's other messages, in one frame, in that turn", async () => {
    const { first, second } = await connectedPair();
    const arrived = collectMessages(second, 2);
    const framesBefore = first.counters.sentFrames;
    first.send(2, encodeText('sent in the poll'));
    // A group commit's push: work deferred to the end of the turn.
    endOfTurn.defer(() => first.send(2, encodeText('sent by deferred work')));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(first.queuedMessages(2)).toBe(0);
    expect(first.counters.sentFrames).toBe(framesBefore + 1);
    expect((await arrived).map((frame) => decodeText(frame.payload))).toEqual([
      'sent in the poll',
      'sent by deferred work',
    ]);
  });

  it('closes links to peers removed from the membership and discards their queue', async () => {
    const { first } = await connectedPair();
    first.send(2, encodeText('queued'));
    first.setPeers(new Map());
    expect(first.isConnected(2)).toBe(false);
    expect(first.counters.discardedQueued).toBe(1);
    expect(first.send(2, encodeText('gone'))).toBe(false);
  });

  it('stops: refuses sends and closes every stream', async () => {
    const { network, first, second } = await connectedPair();
    await first.stop();
    await second.stop();
    expect(first.send(2, encodeText('late'))).toBe(false);
    expect(first.counters.droppedMessages.stopped).toBe(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(network.openStreamCount()).toBe(0);
  });
});

/** Records every peer-lost report of `transport`. */
function recordLost(transport: PeerTransport): number[] {
  const lost: number[] = [];
  transport.onPeerLost((peerId) => lost.push(peerId));
  return lost;
}

/** Lets the in-memory network deliver closes and the transports react (microtasks only). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

describe('reporting an established connection as lost', () => {
  it('reports the peer when its outbound or inbound connection closes', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const dialer = memoryTransport(network, clock, 1);
    const listener = memoryTransport(network, clock, 2);
    const linked = nextEvent((handler) => dialer.onConnected(handler));
    await listener.start();
    await dialer.start();
    // Only node 1 dials: its side holds the outbound connection, node 2's the inbound one.
    dialer.setPeers(new Map([[2, memoryAddress(2)]]));
    expect(await linked).toBe(2);
    await settle();
    const lostAtDialer = recordLost(dialer);
    const lostAtListener = recordLost(listener);
    network.breakAllConnections();
    await settle();
    expect(lostAtDialer).toEqual([2]);
    expect(lostAtListener).toEqual([1]);
  });

  it('reports a peer that stops, but nothing about a connection closed on purpose', async () => {
    const { first, second } = await connectedPair();
    const lostAtFirst = recordLost(first);
    const lostAtSecond = recordLost(second);
    await second.stop();
    await settle();
    // Both of first's connections with node 2 closed; a stopped transport reports nothing.
    expect(lostAtFirst.length).toBeGreaterThanOrEqual(1);
    expect(new Set(lostAtFirst)).toEqual(new Set([2]));
    expect(lostAtSecond).toEqual([]);
  });

  it('does not report a peer removed from the membership on this side', async () => {
    const { first } = await connectedPair();
    const lost = recordLost(first);
    first.setPeers(new Map());
    await settle();
    // The removed peer's own link to us stays up; our planned close reports nothing.
    expect(lost).toEqual([]);
  });

  it('does not report connections that never completed the handshake', async () => {
    const network = new InMemoryNetwork();
    const clock = new ManualClock();
    const server = memoryTransport(network, clock, 1);
    const stranger = memoryTransport(network, clock, 2, { clusterId: 'other-cluster' });
    const lostAtServer = recordLost(server);
    const lostAtStranger = recordLost(stranger);
    const refused = nextEvent((handler) => stranger.onRefused(handler));
    stranger.setPeers(new Map([[1, memoryAddress(1)]]));
    await server.start();
    await stranger.start();
    expect(await refused).toBe('closed-during-handshake');
    await settle();
    expect(lostAtServer).toEqual([]);
    expect(lostAtStranger).toEqual([]);
  });

  it('does not report an inbound connection a redialing peer replaced, only the current one', async () => {
    const network = new InMemoryNetwork();
    const server = memoryTransport(network, new ManualClock(), 1);
    await server.start();
    const lost = recordLost(server);
    const older = await handshakenAsPeer5(network);
    const newer = (await handshakenAsPeer5(network)).stream;
    await older.closed;
    await settle();
    expect(lost).toEqual([]);
    newer.close();
    await settle();
    expect(lost).toEqual([5]);
  });
});

describe('transport options', () => {
  it('lists every problem at once', () => {
    let error: unknown;
    try {
      memoryTransport(new InMemoryNetwork(), new ManualClock(), -1, {
        clusterId: '',
        sendQueueMessages: 0,
        reconnectBackoffMinMs: 500,
        reconnectBackoffMaxMs: 100,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toHaveLength(4);
  });

  it('refuses plaintext TCP unless asked for by name', () => {
    const base = { nodeId: 1, clusterId: CLUSTER_ID, listenAddress: { host: '127.0.0.1', port: 0 } };
    expect(() => createTcpTransport(base)).toThrow(ValidationError);
    const insecure: PeerTransport = createTcpTransport({ ...base, insecure: true });
    expect(insecure.nodeId).toBe(1);
  });
});
