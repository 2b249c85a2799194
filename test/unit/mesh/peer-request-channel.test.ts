/**
 * The generic peer-request channel (two nodes on an in-memory link): answers travel back by
 * request id, a served error keeps its code, and an unanswered request is one PeerRequestError
 * with its owner's code (a blobs channel's BLOB_PEER_REQUEST_FAILED, a daemons one's
 * DAEMON_PEER_REQUEST_FAILED), with `sent` telling a refused request from an unanswered one.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, MeshError, type NodeId, PeerRequestError } from '../../../src/lib/index.js';
import { BlobPeerRequests } from '../../../src/mesh/blob-peer-requests.js';
import { DaemonPeerRequests } from '../../../src/mesh/daemon-peer-requests.js';
import { LOST_CONNECTION_POLL_MS, PeerRequestChannel } from '../../../src/mesh/peer-request-channel.js';
import type { PeerChannelLink } from '../../../src/server/index.js';

/**
 * Links between nodes that deliver on a later microtask; `accepts` false refuses every send;
 * `lose` closes a peer; the links report the connections to `lostConnections`' nodes lost.
 */
function network() {
  const handlers = new Map<NodeId, (from: NodeId, payload: Uint8Array) => void>();
  const lostHandlers = new Map<NodeId, (peer: NodeId) => void>();
  const state = { accepts: true, delivers: true };
  const lostConnections = new Set<NodeId>();
  const link = (self: NodeId): PeerChannelLink => ({
    connectionLost: (peer) => lostConnections.has(peer),
    send: (peer, payload) => {
      if (!state.accepts) return false;
      if (state.delivers) queueMicrotask(() => handlers.get(peer)?.(self, payload));
      return true;
    },
    onMessage: (handler) => handlers.set(self, handler),
    onPeerLost: (handler) => lostHandlers.set(self, handler),
  });
  const deliverRaw = (from: NodeId, to: NodeId, payload: Uint8Array) => handlers.get(to)?.(from, payload);
  const lose = (at: NodeId, peer: NodeId) => lostHandlers.get(at)?.(peer);
  return { link, state, deliverRaw, lose, lostConnections };
}

async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

/** Node 1 asking node 2, which counts the requests it served. */
function askerAndServer(clock: ManualClock) {
  const net = network();
  const asker = channel(net.link(1), clock);
  const server = channel(net.link(2), clock);
  const served = { count: 0 };
  server.serve(async () => {
    served.count++;
    return { header: { ok: true }, blobs: [] };
  });
  return { net, asker, served };
}

function channel(link: PeerChannelLink, clock: ManualClock, maxInFlight = 10) {
  return new PeerRequestChannel({
    link,
    clock,
    name: 'owner',
    maxInFlight,
    unansweredCode: 'OWNER_REQUEST_FAILED',
    notServing: (request) =>
      new MeshError('OWNER_NOT_SERVING', `nothing serves ${String(request.header.type)}`),
  });
}

async function caught(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('the request did not fail');
}

describe('PeerRequestChannel', () => {
  it('answers a request with its handler and carries the header and binary parts both ways', async () => {
    const clock = new ManualClock();
    const net = network();
    const asker = channel(net.link(1), clock);
    const server = channel(net.link(2), clock);
    server.serve(async (from, request) => ({
      header: { from, echoed: request.header.word },
      blobs: [Uint8Array.from([...(request.blobs[0] ?? [])].reverse())],
    }));
    const answer = await asker.request(2, { header: { word: 'hi' }, blobs: [Uint8Array.of(1, 2, 3)] }, 1_000);
    expect(answer.header).toMatchObject({ from: 1, echoed: 'hi' });
    expect([...(answer.blobs[0] ?? [])]).toEqual([3, 2, 1]);
    expect(asker.inFlight).toBe(0);
  });

  it("rebuilds a served error with its code and details, and answers the owner's notServing error when nothing serves", async () => {
    const clock = new ManualClock();
    const net = network();
    const asker = channel(net.link(1), clock);
    const server = channel(net.link(2), clock);
    const idle = await caught(asker.request(2, { header: { type: 'chunk' }, blobs: [] }, 1_000));
    expect(idle).toMatchObject({ code: 'OWNER_NOT_SERVING', message: 'nothing serves chunk' });
    server.serve(async () => {
      throw new MeshError('SOMETHING_WRONG', 'it went wrong there', { details: { where: 2 } });
    });
    const failed = await caught(asker.request(2, { header: {}, blobs: [] }, 1_000));
    expect(failed).toMatchObject({ code: 'SOMETHING_WRONG', details: { where: 2 } });
  });

  it("fails an unanswered request with the owner's error: sent false when refused or closed, true after a timeout or a lost peer", async () => {
    const clock = new ManualClock();
    const net = network();
    const asker = channel(net.link(1), clock, 2);
    net.state.accepts = false;
    const refused = await caught(asker.request(2, { header: {}, blobs: [] }, 1_000));
    expect(refused).toBeInstanceOf(PeerRequestError);
    expect(refused).toMatchObject({
      code: 'OWNER_REQUEST_FAILED',
      message: expect.stringContaining('owner request to node 2: '),
      peer: 2,
      sent: false,
      details: { peer: 2, sent: false },
    });
    net.state.accepts = true;
    net.state.delivers = false;
    const timedOut = caught(asker.request(2, { header: {}, blobs: [] }, 100));
    const lost = caught(asker.request(3, { header: {}, blobs: [] }, 1_000));
    // Past the bound: refused unsent.
    expect(await caught(asker.request(4, { header: {}, blobs: [] }, 1_000))).toMatchObject({ sent: false });
    clock.advance(100);
    expect(await timedOut).toMatchObject({ code: 'OWNER_REQUEST_FAILED', peer: 2, sent: true });
    net.lose(1, 3);
    expect(await lost).toMatchObject({ peer: 3, sent: true });
    asker.close();
    expect(await caught(asker.request(2, { header: {}, blobs: [] }, 1_000))).toMatchObject({ sent: false });
  });

  it('refuses at once, unsent, a request to a peer whose connection is lost, and sends again once it is up', async () => {
    const clock = new ManualClock();
    const { net, asker, served } = askerAndServer(clock);
    net.lostConnections.add(2);
    expect(await caught(asker.request(2, { header: {}, blobs: [] }, 1_000))).toMatchObject({
      code: 'OWNER_REQUEST_FAILED',
      peer: 2,
      sent: false,
      message: expect.stringContaining('its connection is down'),
    });
    expect(asker.inFlight).toBe(0);
    net.lostConnections.delete(2);
    await expect(asker.request(2, { header: {}, blobs: [] }, 1_000)).resolves.toMatchObject({
      header: { ok: true },
    });
    expect(served.count).toBe(1);
  });

  it('requestWhenConnected holds a request while the connection is lost and sends it once it is up; still down at its deadline, it fails unsent', async () => {
    const clock = new ManualClock();
    const { net, asker, served } = askerAndServer(clock);
    net.lostConnections.add(2);
    let answered: unknown;
    const held = asker.requestWhenConnected(2, { header: {}, blobs: [] }, 1_000).then((answer) => {
      answered = answer;
    });
    clock.advance(LOST_CONNECTION_POLL_MS);
    await settle();
    expect(served.count).toBe(0);
    expect(answered).toBeUndefined();
    net.lostConnections.delete(2);
    clock.advance(LOST_CONNECTION_POLL_MS);
    await held;
    expect(answered).toMatchObject({ header: { ok: true } });
    expect(served.count).toBe(1);

    net.lostConnections.add(2);
    const givenUp = caught(asker.requestWhenConnected(2, { header: {}, blobs: [] }, 120));
    for (let elapsedMs = 0; elapsedMs < 120; elapsedMs += LOST_CONNECTION_POLL_MS) {
      await settle();
      clock.advance(LOST_CONNECTION_POLL_MS);
    }
    expect(await givenUp).toMatchObject({
      code: 'OWNER_REQUEST_FAILED',
      sent: false,
      message: expect.stringContaining('its connection stayed down for 120 ms'),
    });
    expect(served.count).toBe(1);
  });

  it('drops a malformed frame and goes on serving', async () => {
    const clock = new ManualClock();
    const net = network();
    const asker = channel(net.link(1), clock);
    const server = channel(net.link(2), clock);
    server.serve(async () => ({ header: { ok: true }, blobs: [] }));
    net.deliverRaw(1, 2, Uint8Array.of(9, 9, 9));
    await expect(asker.request(2, { header: {}, blobs: [] }, 1_000)).resolves.toMatchObject({
      header: { ok: true },
    });
  });

  it("gives each owner its own codes: the blobs channel's and the daemons channel's", async () => {
    const clock = new ManualClock();
    const net = network();
    net.state.accepts = false;
    const blobs = new BlobPeerRequests(net.link(1), clock);
    const daemons = new DaemonPeerRequests(net.link(5), clock);
    expect(await caught(blobs.request(2, { header: {}, blobs: [] }, 1_000))).toMatchObject({
      code: 'BLOB_PEER_REQUEST_FAILED',
      message: expect.stringContaining('blobs request to node 2: '),
      sent: false,
    });
    expect(await caught(daemons.request(2, { header: {}, blobs: [] }, 1_000))).toMatchObject({
      code: 'DAEMON_PEER_REQUEST_FAILED',
      message: expect.stringContaining('daemons request to node 2: '),
      sent: false,
    });
    net.state.accepts = true;
    // Each channel answers with its own code while nothing serves on it.
    const blobsIdle = await caught(daemons.request(1, { header: { name: 'x' }, blobs: [] }, 1_000));
    const daemonsIdle = await caught(blobs.request(5, { header: { name: 'x' }, blobs: [] }, 1_000));
    expect(blobsIdle).toMatchObject({ code: 'BLOBS_UNAVAILABLE' });
    expect(daemonsIdle).toMatchObject({ code: 'DAEMON_UNAVAILABLE' });
  });
});
