/**
 * `meshos.v1.Daemons` on the client port over the in-memory fake backend, called with plain gRPC
 * clients so the wire is checked exactly: every RPC's round trip, the status and trailers each
 * error code of the table is sent with, the Outputs stream (history in bounded batches, follow,
 * cancellation, a removed daemon, server close), deadlines handed to the backend, refused input.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonStatusToPb } from '../../../src/api/convert-daemons.js';
import {
  DAEMON_ANSWER_MARGIN_MS,
  DEFAULT_DAEMON_MOVE_TIMEOUT_MS,
  DEFAULT_DAEMON_SEND_TIMEOUT_MS,
  MAX_DAEMON_OUTPUTS_PER_MESSAGE,
} from '../../../src/api/limits.js';
import { daemonsServiceDefinition } from '../../../src/api/proto.js';
import { daemonStatusFromPb } from '../../../src/client/convert-daemons.js';
import type { DaemonStatus } from '../../../src/daemons/index.js';
import { MeshError } from '../../../src/lib/index.js';
import { DAEMON_ERRORS, daemonsProtoDefinition, type PbDaemonStatus } from '../../../src/protocol/index.js';
import {
  call,
  failure,
  type LocalEtcd,
  MessageQueue,
  type RawClient,
  rawMeshosClient,
  startLocalEtcd,
} from '../../support/etcd-harness.js';
import { FakeDaemonsBackend } from '../../support/fake-daemons-backend.js';
import { until } from '../../support/until.js';

let backend: FakeDaemonsBackend;
let etcd: LocalEtcd;
let daemons: RawClient;
let daemonCount = 0;

function rawDaemonsClient(address: string): RawClient {
  return rawMeshosClient(address, daemonsProtoDefinition(), 'Daemons');
}

/** A fresh daemon per case, so cases do not depend on each other's events. */
async function newDaemon(kind = 'counter', group = 'GROUP_STANDBY', members = 3): Promise<string> {
  daemonCount += 1;
  const name = `daemon-${daemonCount}`;
  await call(daemons, 'Deploy', { name, kind, group, members });
  return name;
}

function trailerCode(error: grpc.ServiceError): unknown {
  return error.metadata.get('meshos-error-code')[0];
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

beforeAll(async () => {
  backend = new FakeDaemonsBackend({ nodeCount: 4, maxEventBytes: 16 });
  etcd = await startLocalEtcd({ daemons: backend });
  daemons = rawDaemonsClient(etcd.server.address);
});

afterAll(async () => {
  daemons.close();
  await etcd.close();
});

afterEach(() => {
  backend.holdSends = false;
  backend.clearFailures();
});

describe('unary calls', () => {
  it('deploy answers the status; list answers the definitions with their defaults', async () => {
    const status = await call(daemons, 'Deploy', {
      name: 'deployed',
      kind: 'counter',
      group: 'GROUP_STANDBY',
      members: 3,
      config_json: '{"limit":5}',
    });
    expect(status).toEqual({
      name: 'deployed',
      kind: 'counter',
      group: 'GROUP_STANDBY',
      epoch: '1',
      members: [
        { index: 0, node: '1', role: 'ROLE_ACTIVE', synced_through: '0', healthy: true },
        { index: 1, node: '2', role: 'ROLE_STANDBY', synced_through: '0', healthy: true },
        { index: 2, node: '3', role: 'ROLE_STANDBY', synced_through: '0', healthy: true },
      ],
      inbound_through: '0',
      desired_members: null,
    });
    await call(daemons, 'Deploy', {
      name: 'deployed-replica',
      kind: 'journal',
      group: 'GROUP_REPLICA',
      members: 2,
      standby_mode: 'STANDBY_WARM',
      acks: 'ACKS_ALL',
    });
    const listed = await call(daemons, 'List', {});
    const byName = new Map(listed.daemons.map((daemon: RawClient) => [daemon.name, daemon]));
    expect(byName.get('deployed')).toEqual({
      name: 'deployed',
      kind: 'counter',
      group: 'GROUP_STANDBY',
      config_json: '{"limit":5}',
      members: [
        { index: 0, node: '1' },
        { index: 1, node: '2' },
        { index: 2, node: '3' },
      ],
      active: { index: 0 },
      standby_mode: 'STANDBY_HOT',
      acks: 'ACKS_QUORUM',
      epoch: '1',
      created_at_ms: '1700000000000',
      fork_of: null,
    });
    expect(byName.get('deployed-replica')).toMatchObject({
      config_json: '',
      active: null,
      standby_mode: 'STANDBY_WARM',
      acks: 'ACKS_ALL',
    });
    await call(daemons, 'Deploy', {
      name: 'deployed-fork',
      kind: 'counter',
      group: 'GROUP_FORK',
      members: 1,
      fork_of: { parent: 'deployed', inbound_offset: { offset: '12' } },
    });
    const forks = await call(daemons, 'List', {});
    expect(forks.daemons.find((daemon: RawClient) => daemon.name === 'deployed-fork')).toMatchObject({
      group: 'GROUP_FORK',
      fork_of: { parent: 'deployed', inbound_offset: { offset: '12' } },
    });
    await expect(
      call(daemons, 'Deploy', {
        name: 'x',
        kind: 'counter',
        group: 'GROUP_FORK',
        members: 1,
        fork_of: { parent: '' },
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('fork_of.parent is empty') });
  });

  it('send answers where the event sits and what it produced; a repeated id is a duplicate', async () => {
    const name = await newDaemon();
    const first = await call(daemons, 'Send', {
      name,
      payload: Buffer.from('5'),
      client_id: 'c',
      sequence: 1,
    });
    expect({ ...first, outputs: first.outputs.map(text) }).toEqual({
      epoch: '1',
      inbound_offset: '0',
      member_index: 0,
      duplicate: false,
      outputs: ['5'],
    });
    const second = await call(daemons, 'Send', { name, payload: Buffer.from('7'), key: 'k' });
    expect([second.inbound_offset, second.outputs.map(text)]).toEqual(['1', ['12']]);
    const repeat = await call(daemons, 'Send', {
      name,
      payload: Buffer.from('5'),
      client_id: 'c',
      sequence: 1,
    });
    expect([repeat.duplicate, repeat.inbound_offset, repeat.outputs.map(text)]).toEqual([true, '0', ['5']]);
    const status = await call(daemons, 'Status', { name });
    expect([status.inbound_through, status.members[1].synced_through]).toEqual(['2', '2']);
  });

  it('state answers the active by default, or the member asked for', async () => {
    const name = await newDaemon();
    await call(daemons, 'Send', { name, payload: Buffer.from('3') });
    const active = await call(daemons, 'State', { name });
    expect({ ...active, state: JSON.parse(text(active.state)) }).toEqual({
      name,
      epoch: '1',
      member_index: 0,
      applied_through: '1',
      state: { events: 1, sum: 3 },
    });
    const second = await call(daemons, 'State', { name, member: { index: 2 } });
    expect(second.member_index).toBe(2);
    const zero = await call(daemons, 'State', { name, member: { index: 0 } });
    expect(zero.member_index).toBe(0);
  });

  it('move answers the phases and the pause; remove deletes', async () => {
    const name = await newDaemon();
    const moved = await call(daemons, 'Move', { name, to: 4 });
    expect(moved).toEqual({
      name,
      epoch: '2',
      from: '1',
      to: '4',
      pause_ms: 1.5,
      phases: ['snapshot', 'transfer', 'restore', 'replay', 'cutover', 'complete'].map((phase) => ({
        phase,
        duration_ms: 0.25,
      })),
    });
    expect(await call(daemons, 'Remove', { name })).toEqual({});
    const gone = await failure(call(daemons, 'Status', { name }));
    expect([gone.code, trailerCode(gone), gone.details]).toEqual([
      grpc.status.NOT_FOUND,
      'DAEMON_NOT_FOUND',
      `no daemon named ${name}`,
    ]);
  });
});

describe('errors', () => {
  it.each(Object.entries(DAEMON_ERRORS))(
    '%s travels with its status and its code and details in the trailers',
    async (code, row) => {
      backend.failNext('status', new MeshError(code, `failed with ${code}`, { details: { why: code } }));
      const error = await failure(call(daemons, 'Status', { name: 'any' }));
      expect([error.code, trailerCode(error), error.details]).toEqual([
        row.status,
        code,
        `failed with ${code}`,
      ]);
      expect(JSON.parse(String(error.metadata.get('meshos-error-details')[0]))).toEqual({ why: code });
    },
  );

  it('the backend raises them where the contract says', async () => {
    const name = await newDaemon();
    const exists = await failure(
      call(daemons, 'Deploy', { name, kind: 'counter', group: 'GROUP_SINGLE', members: 1 }),
    );
    expect([exists.code, trailerCode(exists)]).toEqual([grpc.status.ALREADY_EXISTS, 'DAEMON_EXISTS']);
    const kind = await failure(
      call(daemons, 'Deploy', { name: 'k', kind: 'nope', group: 'GROUP_SINGLE', members: 1 }),
    );
    expect([kind.code, trailerCode(kind)]).toEqual([grpc.status.FAILED_PRECONDITION, 'DAEMON_KIND_UNKNOWN']);
    const placement = await failure(
      call(daemons, 'Deploy', { name: 'p', kind: 'counter', group: 'GROUP_STANDBY', members: 9 }),
    );
    expect(trailerCode(placement)).toBe('DAEMON_PLACEMENT_FAILED');
    const large = await failure(call(daemons, 'Send', { name, payload: Buffer.alloc(17, 0x31) }));
    expect([large.code, trailerCode(large)]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'DAEMON_EVENT_TOO_LARGE',
    ]);
    const thrown = await failure(call(daemons, 'Send', { name, payload: Buffer.from('x') }));
    expect([thrown.code, trailerCode(thrown)]).toEqual([grpc.status.ABORTED, 'DAEMON_PROCESS_FAILED']);
  });

  it('an unlisted code travels as UNKNOWN with its code; a failure that is not a MeshError as INTERNAL', async () => {
    backend.failNext('list', new MeshError('DAEMON_SOMETHING_NEW', 'new'));
    const unlisted = await failure(call(daemons, 'List', {}));
    expect([unlisted.code, trailerCode(unlisted)]).toEqual([grpc.status.UNKNOWN, 'DAEMON_SOMETHING_NEW']);
    backend.failNext('list', new TypeError('boom'));
    const internal = await failure(call(daemons, 'List', {}));
    expect([internal.code, internal.details, trailerCode(internal)]).toEqual([
      grpc.status.INTERNAL,
      'internal error: TypeError: boom',
      undefined,
    ]);
  });

  it('bad input is refused with INVALID_ARGUMENT naming every problem, before the backend', async () => {
    const deploy = await failure(
      call(daemons, 'Deploy', { name: '', kind: '', members: 0, config_json: '{', standby_mode: 7, acks: 9 }),
    );
    expect([deploy.code, trailerCode(deploy)]).toEqual([grpc.status.INVALID_ARGUMENT, 'VALIDATION_FAILED']);
    expect(deploy.details).toMatch(
      /^deploy daemon request is invalid: name is empty; kind is empty; group is required: single, standby, replica or fork; members must be at least 1; config_json is not JSON: .+; standby_mode 7 is not hot, warm; acks 9 is not one, quorum, all$/,
    );
    const sendsBefore = backend.sendCalls;
    const send = await failure(call(daemons, 'Send', { name: 'x', payload: Buffer.from('1'), sequence: 4 }));
    expect(send.details).toBe('send request is invalid: sequence is given without a client_id');
    expect(backend.sendCalls).toBe(sendsBefore);
    const move = await failure(call(daemons, 'Move', { name: 'x', to: 0 }));
    expect(move.details).toBe('move request is invalid: to 0 is not a node id (1 to 2^53-1)');
    const outputs = await failure(call(daemons, 'Status', { name: '' }));
    expect(outputs.details).toBe('daemon request is invalid: name is empty');
  });
});

describe('deadlines', () => {
  it("give the backend the client's deadline less the answer margin, and the default without one", async () => {
    const name = await newDaemon();
    backend.holdSends = true;
    const failed = await new Promise<grpc.ServiceError>((resolve) => {
      daemons.Send({ name, payload: Buffer.from('1') }, { deadline: new Date(Date.now() + 400) }, resolve);
    });
    // The backend's own answer (outcome unknown) or the client's deadline: DEADLINE_EXCEEDED either way.
    expect(failed.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const timeoutMs = backend.sendTimeoutsMs.at(-1) as number;
    expect(timeoutMs).toBeGreaterThan(0);
    expect(timeoutMs).toBeLessThanOrEqual(400 - DAEMON_ANSWER_MARGIN_MS);

    backend.holdSends = false;
    await call(daemons, 'Send', { name, payload: Buffer.from('1') });
    expect(backend.sendTimeoutsMs.at(-1)).toBe(DEFAULT_DAEMON_SEND_TIMEOUT_MS);
    await call(daemons, 'Move', { name, to: 4 });
    expect(backend.moveTimeoutsMs.at(-1)).toBe(DEFAULT_DAEMON_MOVE_TIMEOUT_MS);
  });
});

describe('outputs', () => {
  function openOutputs(client: RawClient, name: string, fromSequence: number, follow: boolean) {
    const stream = client.Outputs({ name, from_sequence: fromSequence, follow });
    const outputs = new MessageQueue<RawClient>();
    const messages: number[] = [];
    const completes: boolean[] = [];
    const ended: Promise<grpc.ServiceError | undefined> = new Promise((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    stream.on('data', (response: RawClient) => {
      messages.push(response.outputs.length);
      completes.push(response.complete);
      for (const output of response.outputs) outputs.push(output);
    });
    return { stream, outputs, messages, completes, ended };
  }

  /** Straight into the backend: the history is what these cases read, not how it was sent. */
  async function sendMany(name: string, count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      await backend.send(name, { payload: Buffer.from(`e${index}`) }, DEFAULT_DAEMON_SEND_TIMEOUT_MS);
    }
  }

  it('without follow: the history from the sequence in batches within the budget, then the end', async () => {
    const name = await newDaemon('journal');
    const total = MAX_DAEMON_OUTPUTS_PER_MESSAGE * 2 + 10;
    await sendMany(name, total);
    const { outputs, messages, completes, ended } = openOutputs(daemons, name, 3, false);
    expect(await ended).toBeUndefined();
    // The end reached is marked on the last message (empty), and only there.
    expect([messages.at(-1), completes.indexOf(true), completes.length]).toEqual([
      0,
      completes.length - 1,
      messages.length,
    ]);
    expect(outputs.all.map((output) => output.sequence)).toEqual(
      Array.from({ length: total - 3 }, (_, index) => String(index + 3)),
    );
    expect(outputs.all[0]).toEqual({
      sequence: '3',
      inbound_offset: '3',
      index: 0,
      payload: Buffer.from('e3'),
    });
    expect(Math.max(...messages)).toBeLessThanOrEqual(MAX_DAEMON_OUTPUTS_PER_MESSAGE);
    // A backlog travels in few messages, not one per output.
    expect(messages.length).toBeLessThan(total / 10);
  });

  it('with follow: the history, then outputs as events are applied, until cancelled', async () => {
    const name = await newDaemon('journal');
    await sendMany(name, 2);
    await until(() => backend.openOutputStreams === 0, 'earlier streams to end');
    const { stream, outputs, ended } = openOutputs(daemons, name, 0, true);
    await outputs.atLeast(2);
    await call(daemons, 'Send', { name, payload: Buffer.from('live') });
    const seen = await outputs.atLeast(3);
    expect(seen.map((output) => text(output.payload))).toEqual(['e0', 'e1', 'live']);
    expect(backend.openOutputStreams).toBe(1);
    stream.cancel();
    expect((await ended)?.code).toBe(grpc.status.CANCELLED);
    await until(() => backend.openOutputStreams === 0, 'the backend iterable to end');
  });

  it('a removed daemon ends a following stream with NOT_FOUND; an unknown one fails at once', async () => {
    const name = await newDaemon('journal');
    const { ended } = openOutputs(daemons, name, 0, true);
    await until(() => backend.openOutputStreams > 0, 'the stream to open');
    await call(daemons, 'Remove', { name });
    const error = await ended;
    expect([error?.code, error === undefined ? undefined : trailerCode(error)]).toEqual([
      grpc.status.NOT_FOUND,
      'DAEMON_NOT_FOUND',
    ]);
    const unknown = await openOutputs(daemons, 'no-such-daemon', 0, false).ended;
    expect(unknown?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('closing the server ends open streams cleanly so clients resume elsewhere', async () => {
    const ownBackend = new FakeDaemonsBackend();
    const own = await startLocalEtcd({ daemons: ownBackend });
    const client = rawDaemonsClient(own.server.address);
    try {
      await call(client, 'Deploy', { name: 'closing', kind: 'journal', group: 'GROUP_SINGLE', members: 1 });
      await call(client, 'Send', { name: 'closing', payload: Buffer.from('seen') });
      const { ended, completes, outputs } = openOutputs(client, 'closing', 0, true);
      await outputs.atLeast(1);
      await own.close();
      // Ended cleanly but not complete: the client resumes elsewhere.
      expect(await ended).toBeUndefined();
      expect(completes).toEqual([false]);
      expect(ownBackend.openOutputStreams).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('conversions across the wire', () => {
  it('a member whose progress is unknown (synced through -1) reaches the client as -1', () => {
    const status: DaemonStatus = {
      name: 'unknown-progress',
      kind: 'counter',
      group: 'standby',
      epoch: 2,
      members: [
        { index: 0, node: 1, role: 'active', syncedThrough: 5, healthy: true },
        { index: 1, node: 3, role: 'standby', syncedThrough: -1, healthy: false },
      ],
      inboundThrough: 5,
    };
    const method = daemonsServiceDefinition().Status;
    if (method === undefined) throw new Error('the Daemons service has no Status method');
    const wire = method.responseSerialize(daemonStatusToPb(status));
    expect(daemonStatusFromPb(method.responseDeserialize(wire) as PbDaemonStatus)).toEqual(status);
  });

  it("the operator's member count travels when asked for and stays absent when not", () => {
    const method = daemonsServiceDefinition().Status;
    if (method === undefined) throw new Error('the Daemons service has no Status method');
    const roundTrip = (status: DaemonStatus) =>
      daemonStatusFromPb(
        method.responseDeserialize(method.responseSerialize(daemonStatusToPb(status))) as PbDaemonStatus,
      );
    const placed: DaemonStatus = {
      name: 'scaled',
      kind: 'journal',
      group: 'standby',
      epoch: 4,
      members: [
        { index: 0, node: 1, role: 'active', syncedThrough: 9, healthy: true },
        { index: 1, node: 2, role: 'standby', syncedThrough: 9, healthy: true },
      ],
      inboundThrough: 9,
    };
    const asked = { ...placed, desiredMembers: 3 };
    expect(roundTrip(asked)).toEqual(asked);
    const unasked = roundTrip(placed);
    expect(unasked).toEqual(placed);
    expect('desiredMembers' in unasked).toBe(false);
    // A status from a node that predates the field decodes as no count asked for.
    const { desired_members: _dropped, ...older } = daemonStatusToPb(asked);
    const fromOlder = daemonStatusFromPb(
      method.responseDeserialize(method.responseSerialize(older)) as PbDaemonStatus,
    );
    expect(fromOlder).toEqual(placed);
  });
});

describe('a server without a daemons backend', () => {
  it('answers UNIMPLEMENTED', async () => {
    const bare = await startLocalEtcd();
    const client = rawDaemonsClient(bare.server.address);
    try {
      const error = await failure(call(client, 'List', {}));
      expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
      await bare.close();
    }
  });
});
