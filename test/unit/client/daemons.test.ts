/**
 * `client.daemons` against the daemons API over the fake backend on loopback: values round-trip,
 * every error code of the table comes back as the same typed error, calls are retried only where
 * that is safe (an event with a client id and sequence is sent again after a lost answer and
 * applied once), and an outputs stream follows, stops on abort, and resumes on another endpoint
 * without skipping or repeating an output.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_ANSWER_MARGIN_MS } from '../../../src/api/limits.js';
import {
  bytesToText,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DAEMON_MOVE_TIMEOUT_MS,
  MeshClient,
} from '../../../src/client/index.js';
import { MeshError } from '../../../src/lib/index.js';
import { DAEMON_ERRORS } from '../../../src/protocol/index.js';
import { type LocalEtcd, rejection, startLocalEtcd } from '../../support/etcd-harness.js';
import { FakeDaemonsBackend } from '../../support/fake-daemons-backend.js';
import { until } from '../../support/until.js';

const unavailable = (name: string) => new MeshError('DAEMON_UNAVAILABLE', `daemon ${name} is unavailable`);
describe('client.daemons against one node', () => {
  let backend: FakeDaemonsBackend;
  let node: LocalEtcd;
  let client: MeshClient;
  let daemonCount = 0;
  const newDaemon = async (kind = 'counter'): Promise<string> => {
    daemonCount += 1;
    const name = `client-daemon-${daemonCount}`;
    await client.daemons.deploy(name, { kind, group: 'standby', members: 3 });
    return name;
  };

  beforeAll(async () => {
    backend = new FakeDaemonsBackend({ nodeCount: 4 });
    node = await startLocalEtcd({ daemons: backend });
    client = await MeshClient.connect({ endpoints: [node.server.address], timeoutMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await node.close();
  });

  afterEach(() => {
    backend.loseAnswers = 0;
    backend.clearFailures();
  });

  it('deploys, lists, reports status, sends, reads state, moves and removes', async () => {
    const status = await client.daemons.deploy('round-trip', {
      kind: 'counter',
      group: 'standby',
      members: 2,
      config: { start: [1, 2] },
      standbyMode: 'warm',
      acks: 'all',
    });
    expect(status).toEqual({
      name: 'round-trip',
      kind: 'counter',
      group: 'standby',
      epoch: 1,
      members: [
        { index: 0, node: 1, role: 'active', syncedThrough: 0, healthy: true },
        { index: 1, node: 2, role: 'standby', syncedThrough: 0, healthy: true },
      ],
      inboundThrough: 0,
    });
    expect((await client.daemons.list()).find((daemon) => daemon.name === 'round-trip')).toEqual({
      name: 'round-trip',
      kind: 'counter',
      group: 'standby',
      config: { start: [1, 2] },
      members: [
        { index: 0, node: 1 },
        { index: 1, node: 2 },
      ],
      active: 0,
      standbyMode: 'warm',
      acks: 'all',
      epoch: 1,
      createdAtMs: 1_700_000_000_000,
    });
    const sent = await client.daemons.send('round-trip', '4', { key: 'k' });
    expect({ ...sent, outputs: sent.outputs.map(bytesToText) }).toEqual({
      epoch: 1,
      inboundOffset: 0,
      memberIndex: 0,
      duplicate: false,
      outputs: ['4'],
    });
    await client.daemons.send('round-trip', new TextEncoder().encode('6'));
    const state = await client.daemons.state('round-trip');
    expect([state.memberIndex, state.appliedThrough, JSON.parse(bytesToText(state.state))]).toEqual([
      0,
      2,
      { events: 2, sum: 10 },
    ]);
    expect((await client.daemons.state('round-trip', { member: 1 })).memberIndex).toBe(1);
    const moved = await client.daemons.move('round-trip', 4);
    expect([moved.from, moved.to, moved.epoch, moved.pauseMs, moved.phases.length]).toEqual([
      1, 4, 2, 1.5, 6,
    ]);
    expect((await client.daemons.status('round-trip')).members[0]).toMatchObject({ node: 4, role: 'active' });
    await client.daemons.remove('round-trip');
    const gone = await rejection(client.daemons.status('round-trip'));
    expect([gone.code, gone.retryable, gone.details]).toEqual([
      'DAEMON_NOT_FOUND',
      false,
      { name: 'round-trip' },
    ]);
  });

  it('a fork group travels with its parent and fork point, and lists them', async () => {
    await client.daemons.deploy('branch', {
      kind: 'counter',
      group: 'fork',
      members: 1,
      forkOf: { parent: 'tally', inboundOffset: 40 },
    });
    const definition = (await client.daemons.list()).find((daemon) => daemon.name === 'branch');
    expect(definition?.forkOf).toEqual({ parent: 'tally', inboundOffset: 40 });
    await expect(
      client.daemons.deploy('bad', {
        kind: 'counter',
        group: 'fork',
        members: 1,
        forkOf: { parent: '', inboundOffset: -1 },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('a replica group lists no active', async () => {
    await client.daemons.deploy('replicas', { kind: 'journal', group: 'replica', members: 3 });
    const definition = (await client.daemons.list()).find((daemon) => daemon.name === 'replicas');
    expect(definition?.active).toBeUndefined();
    expect(definition?.config).toBeUndefined();
    expect((await client.daemons.status('replicas')).members.map((member) => member.role)).toEqual([
      'replica',
      'replica',
      'replica',
    ]);
  });

  it.each(Object.keys(DAEMON_ERRORS))(
    '%s comes back as the same typed error with its details',
    async (code) => {
      const once = await MeshClient.connect({ endpoints: [node.server.address], maxAttempts: 1 });
      try {
        backend.failNext('remove', new MeshError(code, `refused: ${code}`, { details: { code } }));
        const error = await rejection(once.daemons.remove('anything'));
        expect([error.code, error.details, error.grpcCode]).toEqual([
          code,
          { code },
          DAEMON_ERRORS[code]?.status,
        ]);
        expect(error.message).toContain(`refused: ${code}`);
      } finally {
        backend.clearFailures();
        once.close();
      }
    },
  );

  it('retries a send refused before it was appended, and applies it once', async () => {
    const name = await newDaemon();
    const callsBefore = backend.sendCalls;
    backend.failNext('send', unavailable(name), 2);
    const sent = await client.daemons.send(name, '1');
    expect([sent.inboundOffset, sent.duplicate]).toEqual([0, false]);
    expect(backend.sendCalls - callsBefore).toBe(3);
    expect((await client.daemons.status(name)).inboundThrough).toBe(1);
  });

  it('never retries a send of unknown outcome without a client id and sequence', async () => {
    const name = await newDaemon();
    const callsBefore = backend.sendCalls;
    backend.loseAnswers = 1;
    const lost = await rejection(client.daemons.send(name, '5'));
    expect([lost.code, lost.retryable]).toEqual(['DAEMON_EVENT_OUTCOME_UNKNOWN', false]);
    expect(backend.sendCalls - callsBefore).toBe(1);
    expect((await client.daemons.status(name)).inboundThrough).toBe(1);
  });

  it('sends an event with a client id and sequence again after a lost answer: applied once, answered as a duplicate', async () => {
    const name = await newDaemon();
    const callsBefore = backend.sendCalls;
    backend.loseAnswers = 1;
    const sent = await client.daemons.send(name, '5', { clientId: 'writer-1', sequence: 7 });
    expect([sent.duplicate, sent.inboundOffset, sent.outputs.map(bytesToText)]).toEqual([true, 0, ['5']]);
    expect(backend.sendCalls - callsBefore).toBe(2);
    const state = JSON.parse(bytesToText((await client.daemons.state(name)).state));
    expect(state).toEqual({ events: 1, sum: 5 });
  });

  it('does not retry what a retry cannot mend: a failed process, a placement that cannot be met', async () => {
    const name = await newDaemon();
    const callsBefore = backend.sendCalls;
    const failed = await rejection(client.daemons.send(name, 'not a number', { clientId: 'c', sequence: 1 }));
    expect([failed.code, failed.retryable]).toEqual(['DAEMON_PROCESS_FAILED', false]);
    expect(backend.sendCalls - callsBefore).toBe(1);
    const placement = await rejection(
      client.daemons.deploy('too-many', { kind: 'counter', group: 'standby', members: 5 }),
    );
    expect(placement.code).toBe('DAEMON_PLACEMENT_FAILED');
    const kind = await rejection(
      client.daemons.deploy('no-kind', { kind: 'nope', group: 'single', members: 1 }),
    );
    expect(kind.code).toBe('DAEMON_KIND_UNKNOWN');
  });

  it('retries a read through a stopping node and a deploy through an unavailable one', async () => {
    const name = await newDaemon();
    backend.failNext('status', new MeshError('NODE_STOPPED', 'the node is stopping'));
    expect((await client.daemons.status(name)).name).toBe(name);
    backend.failNext('deploy', unavailable('retried'));
    expect(
      (await client.daemons.deploy('retried', { kind: 'journal', group: 'single', members: 1 })).name,
    ).toBe('retried');
  });

  it('a send refused on every attempt fails with the last refusal, which says nothing was applied', async () => {
    const name = await newDaemon();
    const callsBefore = backend.sendCalls;
    const few = await MeshClient.connect({ endpoints: [node.server.address], maxAttempts: 3 });
    backend.failNext('send', unavailable(name), 3);
    try {
      const refused = await rejection(few.daemons.send(name, '1'));
      expect([refused.code, refused.retryable]).toEqual(['DAEMON_UNAVAILABLE', true]);
    } finally {
      few.close();
    }
    expect(backend.sendCalls - callsBefore).toBe(3);
    expect((await client.daemons.status(name)).inboundThrough).toBe(0);
  });

  it('move has its own default deadline, longer than an ordinary call', async () => {
    const name = await newDaemon();
    await client.daemons.move(name, 4);
    const timeoutMs = backend.moveTimeoutsMs.at(-1) as number;
    expect(timeoutMs).toBeGreaterThan(DEFAULT_CALL_TIMEOUT_MS);
    expect(timeoutMs).toBeLessThanOrEqual(DEFAULT_DAEMON_MOVE_TIMEOUT_MS - DAEMON_ANSWER_MARGIN_MS);
  });

  it('refuses bad options before sending anything', async () => {
    const callsBefore = backend.sendCalls;
    const lonely = await rejection(client.daemons.send('x', '1', { sequence: 3 }));
    expect([lonely.code, lonely.message]).toEqual([
      'VALIDATION_FAILED',
      'send options is invalid: clientId (non-empty) and sequence go together',
    ]);
    const emptyKey = await rejection(client.daemons.send('x', '1', { key: '' }));
    expect(emptyKey.message).toContain('key is empty');
    expect(backend.sendCalls).toBe(callsBefore);
    const members = await rejection(
      client.daemons.deploy('', { kind: 'counter', group: 'single', members: 0 }),
    );
    expect(members.message).toBe(
      'deploy options is invalid: name is empty; members must be an integer of at least 1, got 0',
    );
    const move = await rejection(client.daemons.move('x', 0));
    expect(move.message).toContain('to must be a node id');
  });

  describe('outputs', () => {
    it('without follow: from the sequence to the current end', async () => {
      const name = await newDaemon();
      for (const value of ['1', '2', '3']) await client.daemons.send(name, value);
      const seen: string[] = [];
      const stream = client.daemons.outputs(name, { fromSequence: 1 });
      for await (const output of stream) seen.push(`${output.sequence}:${bytesToText(output.payload)}`);
      expect(seen).toEqual(['1:3', '2:6']);
      expect(stream.nextSequence).toBe(3);
    });

    it('with follow: outputs as events are applied, until the signal aborts', async () => {
      const name = await newDaemon('journal');
      await client.daemons.send(name, 'a');
      await until(() => backend.openOutputStreams === 0, 'earlier streams to end');
      const controller = new AbortController();
      const seen: string[] = [];
      for await (const output of client.daemons.outputs(name, { follow: true, signal: controller.signal })) {
        seen.push(bytesToText(output.payload));
        if (seen.length === 1) await client.daemons.send(name, 'b');
        if (seen.length === 2) controller.abort();
      }
      expect(seen).toEqual(['a', 'b']);
      await until(() => backend.openOutputStreams === 0, 'the server-side stream to end');
    });

    it('break ends the server side; an unknown daemon fails with DAEMON_NOT_FOUND', async () => {
      const name = await newDaemon('journal');
      await client.daemons.send(name, 'only');
      for await (const _output of client.daemons.outputs(name, { follow: true })) break;
      await until(() => backend.openOutputStreams === 0, 'the server-side stream to end');
      const missing = await rejection(
        (async () => {
          for await (const _output of client.daemons.outputs('never-deployed')) break;
        })(),
      );
      expect(missing.code).toBe('DAEMON_NOT_FOUND');
    });
  });
});

describe('client.daemons across endpoints', () => {
  it('sends an event with an id again on the next endpoint when the call is cut off after it was sent', async () => {
    const backend = new FakeDaemonsBackend();
    const first = await startLocalEtcd({ daemons: backend });
    const second = await startLocalEtcd({ daemons: backend });
    const client = await MeshClient.connect({
      endpoints: [first.server.address, second.server.address],
      discoverLeader: false,
      timeoutMs: 10_000,
    });
    try {
      await client.daemons.deploy('cut-off', { kind: 'journal', group: 'single', members: 1 });
      backend.holdSends = true;
      const pending = client.daemons.send('cut-off', 'x', { clientId: 'c', sequence: 1 });
      await until(() => backend.sendCalls === 1, 'the send to reach the first node');
      backend.holdSends = false;
      // Closing the node cuts the held call off once its grace period is over.
      await first.close();
      const sent = await pending;
      expect(sent.inboundOffset).toBe(0);
      expect(backend.sendCalls).toBe(2);
      expect(backend.applied).toBe(1);
    } finally {
      client.close();
      await second.close();
    }
  }, 20_000);

  it('does not resend an event without an id cut off after it was sent', async () => {
    const backend = new FakeDaemonsBackend();
    const node = await startLocalEtcd({ daemons: backend });
    const client = await MeshClient.connect({ endpoints: [node.server.address], timeoutMs: 10_000 });
    try {
      await client.daemons.deploy('cut-off', { kind: 'journal', group: 'single', members: 1 });
      backend.holdSends = true;
      const pending = rejection(client.daemons.send('cut-off', 'x'));
      await until(() => backend.sendCalls === 1, 'the send to reach the node');
      await node.close();
      const error = await pending;
      expect([error.code, error.retryable]).toEqual(['DAEMON_EVENT_OUTCOME_UNKNOWN', false]);
      expect(backend.sendCalls).toBe(1);
    } finally {
      client.close();
    }
  }, 20_000);

  it('resumes a following outputs stream on another endpoint from the output after the last one seen', async () => {
    const backend = new FakeDaemonsBackend();
    const first = await startLocalEtcd({ daemons: backend });
    const second = await startLocalEtcd({ daemons: backend });
    const client = await MeshClient.connect({
      endpoints: [first.server.address, second.server.address],
      discoverLeader: false,
      timeoutMs: 5_000,
    });
    try {
      await client.daemons.deploy('resumed', { kind: 'journal', group: 'single', members: 1 });
      for (const payload of ['o0', 'o1', 'o2']) await client.daemons.send('resumed', payload);
      const seen: number[] = [];
      let closedFirst = false;
      for await (const output of client.daemons.outputs('resumed', { follow: true })) {
        seen.push(output.sequence);
        if (output.sequence === 2 && !closedFirst) {
          closedFirst = true;
          // The node going away ends its streams; the next outputs arrive through the other.
          await first.close();
          for (const payload of ['o3', 'o4']) await client.daemons.send('resumed', payload);
        }
        if (output.sequence === 4) break;
      }
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    } finally {
      client.close();
      await second.close();
    }
  });
});
