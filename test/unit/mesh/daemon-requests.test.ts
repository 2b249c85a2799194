import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainDirectory } from '../../../src/chains/index.js';
import { inboundChainName, outputChainName } from '../../../src/daemons/chain-names.js';
import {
  decodeCounterState,
  decodeInboundEventRecord,
  decodeJournalState,
  encodeInboundEventRecord,
} from '../../../src/daemons/index.js';
import { SystemClock } from '../../../src/lib/index.js';
import { DAEMON_PEER_QUESTION_TIMEOUT_MS } from '../../../src/mesh/daemon-requests.js';
import { rejectionCode } from '../../support/error-code.js';
import { until } from '../../support/until.js';
import {
  bytes,
  type DaemonMesh,
  followOutputs,
  openDaemonMesh,
  SEND_TIMEOUT_MS,
  text,
} from './daemon-mesh.js';

/** A send's deadline while the active is fenced: long enough for two looks at the definitions. */
const FENCED_SEND_TIMEOUT_MS = 600;

let mesh: DaemonMesh;
beforeEach(async () => {
  mesh = await openDaemonMesh([1, 2, 3]);
});
afterEach(async () => {
  await mesh.close();
});

describe('daemons across nodes (one process)', () => {
  it('deploys a counter on the least loaded node and takes events from every node', async () => {
    const status = await mesh
      .node(2)
      .requests.deploy({ name: 'tally', kind: 'counter', group: 'single', members: 1 });
    expect(status).toMatchObject({ name: 'tally', kind: 'counter', group: 'single', epoch: 1 });
    expect(status.members.map(({ index, node, role }) => ({ index, node, role }))).toEqual([
      { index: 0, node: 1, role: 'active' },
    ]);
    const sums: string[] = [];
    for (const [node, value] of [
      [1, '5'],
      [2, '7'],
      [3, '-2'],
    ] as const) {
      const result = await mesh.node(node).requests.send('tally', { payload: bytes(value) }, SEND_TIMEOUT_MS);
      expect(result).toMatchObject({ epoch: 1, memberIndex: 0, duplicate: false });
      sums.push(...result.outputs.map(text));
    }
    expect(sums).toEqual(['5', '12', '10']);
    const state = await mesh.node(3).requests.state('tally');
    expect(decodeCounterState(state.state)).toEqual({ events: 3, sum: 10 });
    expect(state.appliedThrough).toBe(3);
    const outputs = (await followOutputs(mesh.node(2), 'tally', 3)).map((output) => [
      output.inboundOffset,
      output.index,
      text(output.payload),
    ]);
    expect(outputs).toEqual([
      [0, 0, '5'],
      [1, 0, '12'],
      [2, 0, '10'],
    ]);
    // A payload the kind refuses is applied nowhere and the state is unchanged.
    expect(
      await rejectionCode(mesh.node(3).requests.send('tally', { payload: bytes('x') }, SEND_TIMEOUT_MS)),
    ).toBe('DAEMON_PROCESS_FAILED');
    expect(decodeCounterState((await mesh.node(1).requests.state('tally')).state)).toEqual({
      events: 3,
      sum: 10,
    });
  });

  it('a send to an active whose connection is lost is refused unsent and tried again: served once it is back, once', async () => {
    await mesh.node(2).requests.deploy({ name: 'tally', kind: 'counter', group: 'single', members: 1 });
    const active = (await mesh.node(2).requests.status('tally')).members[0]?.node as 1 | 2 | 3;
    const sender = active === 3 ? 2 : 3;
    mesh.lostConnections.add(active);
    // A deadline far off: the send ends when the connection is back, not at its deadline.
    const sent = mesh.node(sender).requests.send('tally', { payload: bytes('5') }, 60_000);
    await until(() => mesh.lostConnectionChecks.count >= 2, 'the send refused, then tried again');
    mesh.lostConnections.delete(active);
    const result = await sent;
    expect(result.outputs.map(text)).toEqual(['5']);
    expect(result.duplicate).toBe(false);
    expect(decodeCounterState((await mesh.node(sender).requests.state('tally')).state)).toEqual({
      events: 1,
      sum: 5,
    });
  });

  it("a member's state is asked once the connection to its node is back, and refused unsent if it stays down", async () => {
    await mesh.node(2).requests.deploy({ name: 'tally', kind: 'counter', group: 'single', members: 1 });
    const active = (await mesh.node(2).requests.status('tally')).members[0]?.node as 1 | 2 | 3;
    const asker = active === 3 ? 2 : 3;
    mesh.lostConnections.add(active);
    // Held for its whole deadline, not refused at once: the connection might have come back.
    const refusal = await mesh
      .node(asker)
      .requests.state('tally')
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({
      code: 'DAEMON_PEER_REQUEST_FAILED',
      sent: false,
      message: expect.stringContaining(`stayed down for ${DAEMON_PEER_QUESTION_TIMEOUT_MS} ms`),
    });
    expect(mesh.lostConnectionChecks.count).toBeGreaterThan(1);
  });

  it('runs a standby group: standbys apply every event, a retried (clientId, sequence) is applied once', async () => {
    await mesh.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    for (let sequence = 1; sequence <= 4; sequence++) {
      const node = ((sequence % 3) + 1) as 1 | 2 | 3;
      await mesh
        .node(node)
        .requests.send('log', { payload: bytes(`e${sequence}`), clientId: 'c', sequence }, SEND_TIMEOUT_MS);
    }
    const retry = await mesh
      .node(3)
      .requests.send('log', { payload: bytes('e4'), clientId: 'c', sequence: 4 }, SEND_TIMEOUT_MS);
    expect(retry.duplicate).toBe(true);
    expect(retry.outputs.map(text)).toEqual(['3']);
    await until(async () => {
      const status = await mesh.node(2).requests.status('log');
      return status.members.every(
        (member) => member.syncedThrough === status.inboundThrough && member.healthy,
      );
    }, 'every member synced');
    const status = await mesh.node(2).requests.status('log');
    expect(status.inboundThrough).toBe(5);
    expect(status.members.map((member) => member.role)).toEqual(['active', 'standby', 'standby']);
    for (const index of [0, 1, 2]) {
      const state = await mesh.node(1).requests.state('log', index);
      expect(decodeJournalState(state.state).map(text)).toEqual(['e1', 'e2', 'e3', 'e4']);
    }
  });

  it('refuses bad input with typed errors and removes a daemon with its chains', async () => {
    const requests = mesh.node(1).requests;
    expect(
      await rejectionCode(requests.deploy({ name: 'x', kind: 'nope', group: 'single', members: 1 })),
    ).toBe('DAEMON_KIND_UNKNOWN');
    expect(
      await rejectionCode(requests.deploy({ name: 'x', kind: 'counter', group: 'standby', members: 5 })),
    ).toBe('DAEMON_PLACEMENT_FAILED');
    await requests.deploy({ name: 'x', kind: 'counter', group: 'single', members: 1 });
    expect(
      await rejectionCode(requests.deploy({ name: 'x', kind: 'counter', group: 'single', members: 1 })),
    ).toBe('DAEMON_EXISTS');
    expect(
      await rejectionCode(requests.send('x', { payload: new Uint8Array(300 * 1024) }, SEND_TIMEOUT_MS)),
    ).toBe('DAEMON_EVENT_TOO_LARGE');
    expect(
      await rejectionCode(requests.send('x', { payload: bytes('1'), clientId: 'c' }, SEND_TIMEOUT_MS)),
    ).toBe('VALIDATION_FAILED');
    expect(await rejectionCode(requests.send('missing', { payload: bytes('1') }, SEND_TIMEOUT_MS))).toBe(
      'DAEMON_NOT_FOUND',
    );
    await requests.remove('x');
    expect(await rejectionCode(requests.status('x'))).toBe('DAEMON_NOT_FOUND');
    expect((await mesh.chains.list()).map((chain) => chain.name)).toEqual([]);
    await until(() => mesh.nodes.get(1)?.members.size === 0, 'the member stopped');
  });

  it('refuses an event appended under an older epoch once a newer one is on the inbound chain', async () => {
    await mesh.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 2 });
    const chain = inboundChainName('log');
    await mesh.chains.append(
      chain,
      [encodeInboundEventRecord({ epoch: 1, payload: bytes('a') })],
      SEND_TIMEOUT_MS,
    );
    await mesh.chains.append(
      chain,
      [encodeInboundEventRecord({ epoch: 2, payload: bytes('b') })],
      SEND_TIMEOUT_MS,
    );
    await mesh.chains.append(
      chain,
      [encodeInboundEventRecord({ epoch: 1, payload: bytes('stale') })],
      SEND_TIMEOUT_MS,
    );
    await mesh.chains.append(chain, [bytes('not a record')], SEND_TIMEOUT_MS);
    await mesh.chains.append(
      chain,
      [encodeInboundEventRecord({ epoch: 2, payload: bytes('c') })],
      SEND_TIMEOUT_MS,
    );
    await until(
      async () => (await mesh.node(2).requests.state('log', 1)).appliedThrough === 5,
      'the standby applied all',
    );
    for (const index of [0, 1]) {
      const state = await mesh.node(3).requests.state('log', index);
      expect(decodeJournalState(state.state).map(text)).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('failover (one process)', () => {
  it("promotes the standby that applied the most when the active's node leaves; events go on, each once", async () => {
    await mesh.node(2).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    for (let sequence = 1; sequence <= 3; sequence++)
      await mesh
        .node(3)
        .requests.send('log', { payload: bytes(`e${sequence}`), clientId: 'c', sequence }, SEND_TIMEOUT_MS);
    const beforeFailover = await mesh
      .node(3)
      .requests.send('log', { payload: bytes('d1'), clientId: 'd', sequence: 1 }, SEND_TIMEOUT_MS);
    // Node 1 leaves: its channel drops everything and its coordinator stands down (were it the
    // seat holder, its lease would lapse).
    mesh.down.add(1);
    await mesh.node(1).coordinator.stop();
    // Sent through node 3 while node 1 is cut off: it waits for the promotion, then is served.
    const during = await mesh
      .node(3)
      .requests.send('log', { payload: bytes('e4'), clientId: 'c', sequence: 4 }, SEND_TIMEOUT_MS);
    expect(during.epoch).toBe(2);
    const status = await mesh.node(2).requests.status('log');
    expect(status.epoch).toBe(2);
    expect(status.members.find((member) => member.role === 'active')?.node).not.toBe(1);
    const promotions = [...mesh.nodes.values()].reduce((sum, node) => sum + node.coordinator.promotions, 0);
    expect(promotions).toBe(1);
    // The same transaction started the next epoch of both chains, led from the new active's node.
    const activeNode = status.members.find((member) => member.role === 'active')!.node;
    for (const chain of [inboundChainName('log'), outputChainName('log')]) {
      const stored = await new ChainDirectory(mesh.plane, { clock: new SystemClock() }).get(chain);
      expect(stored?.definition).toMatchObject({ epoch: 2, leader: activeNode, origin: activeNode });
    }
    // A retry of an event the old active applied is recognised by the new one: the first answer.
    const retry = await mesh
      .node(2)
      .requests.send('log', { payload: bytes('d1'), clientId: 'd', sequence: 1 }, SEND_TIMEOUT_MS);
    expect(retry.duplicate).toBe(true);
    expect(retry.outputs.map(text)).toEqual(beforeFailover.outputs.map(text));
    const state = await mesh.node(2).requests.state('log');
    expect(state.memberIndex).toBe(during.memberIndex);
    expect(decodeJournalState(state.state).map(text)).toEqual(['e1', 'e2', 'e3', 'd1', 'e4']);
    const outputs = (await followOutputs(mesh.node(2), 'log', 5)).map((output) => text(output.payload));
    expect(outputs).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('fencing of the active (one process)', () => {
  let fenced: DaemonMesh;
  afterEach(async () => {
    await fenced?.close();
  });

  const inboundPayloads = async (mesh: DaemonMesh): Promise<string[]> =>
    (await mesh.chains.read(inboundChainName('log'), 0, 100, 1 << 20)).records.map((record) =>
      text(decodeInboundEventRecord(record.payload).payload),
    );

  it('an active whose node lease ran out appends nothing until a definition read under its new lease names it', async () => {
    fenced = await openDaemonMesh([1, 2, 3], { leases: true });
    await fenced.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    await fenced.node(3).requests.send('log', { payload: bytes('before') }, SEND_TIMEOUT_MS);
    const clock = new SystemClock();
    // Its last renewal's TTL has run out: node 1 stops taking events as the active.
    fenced.leases.set(1, { id: 100, aliveUntilMs: clock.nowMs() });
    expect(
      await rejectionCode(
        fenced.node(3).requests.send('log', { payload: bytes('lost') }, FENCED_SEND_TIMEOUT_MS),
      ),
    ).toBe('DAEMON_UNAVAILABLE');
    // Registered again under a new lease: still fenced until it re-reads its definition...
    fenced.leases.set(1, { id: 101, aliveUntilMs: clock.nowMs() + 60_000 });
    expect(
      await rejectionCode(
        fenced.node(2).requests.send('log', { payload: bytes('lost') }, FENCED_SEND_TIMEOUT_MS),
      ),
    ).toBe('DAEMON_UNAVAILABLE');
    // ...which still names it active in the same epoch: it serves again.
    fenced.registered(1);
    await until(async () => {
      const sent = await fenced
        .node(2)
        .requests.send('log', { payload: bytes('after') }, FENCED_SEND_TIMEOUT_MS)
        .catch(() => undefined);
      return sent !== undefined;
    }, 'the confirmed active serves');
    expect(await inboundPayloads(fenced)).toEqual(['before', 'after']);
  });

  it('an active that sees a newer epoch on the inbound chain stops taking events before its definition changes', async () => {
    fenced = await openDaemonMesh([1, 2, 3], { leases: true });
    await fenced.node(1).requests.deploy({ name: 'log', kind: 'journal', group: 'standby', members: 3 });
    await fenced.node(1).requests.send('log', { payload: bytes('a') }, SEND_TIMEOUT_MS);
    // A promoted member's first event, on the chain before this node's definition shows epoch 2.
    await fenced.chains.append(
      inboundChainName('log'),
      [encodeInboundEventRecord({ epoch: 2, payload: bytes('b') })],
      SEND_TIMEOUT_MS,
    );
    await until(
      async () => (await fenced.node(1).requests.state('log', 0)).appliedThrough === 2,
      'the active applied the newer epoch',
    );
    expect(
      await rejectionCode(
        fenced.node(1).requests.send('log', { payload: bytes('stale') }, FENCED_SEND_TIMEOUT_MS),
      ),
    ).toBe('DAEMON_UNAVAILABLE');
    expect(await inboundPayloads(fenced)).toEqual(['a', 'b']);
  });
});
