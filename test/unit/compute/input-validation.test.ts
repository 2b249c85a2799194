import { describe, expect, it } from 'vitest';
import {
  ChainValidator,
  DaemonHost,
  DaemonRuntime,
  deriveSeed,
  ForkGroup,
  ForkRecordError,
  identityFromSeed,
  memberIdentity,
  ReplicaGroup,
  StandbyGroup,
  validateChain,
  verifyForkRecord,
} from '../../../src/compute/index.js';
import { ManualClock, SeededRandom, ValidationError } from '../../../src/lib/index.js';
import { eventOf, LedgerDaemon, ledgerOf, ledgerRuntime, seedOf } from './fixtures.js';

/**
 * Input as plain JavaScript may pass it: the declared types promise nothing. Every public
 * entry point answers with one `ValidationError` (VALIDATION_FAILED) that lists each problem,
 * never a TypeError from deep inside.
 */
function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

/** Casts a malformed value to whatever a call declares, as untyped JavaScript would. */
function untyped<T>(value: unknown): T {
  return value as T;
}

describe('compute input from plain JavaScript', () => {
  it('StandbyGroup.spawn lists every problem of a partial config', () => {
    const { runtime } = ledgerRuntime();
    expect(problemsOf(() => StandbyGroup.spawn(runtime, 'ledger', untyped({ memberCount: 2 })))).toEqual([
      'groupSeed must be 32 bytes (a Uint8Array), got undefined',
    ]);
    const problems = problemsOf(() =>
      StandbyGroup.spawn(
        untyped({}),
        untyped(7),
        untyped({
          memberCount: '3',
          groupSeed: 'seed',
          placement: 'n1',
          onReplayBufferFull: 'drop',
          replayBufferCapacityEvents: Number.NaN,
          hostConfig: { snapshotEveryEvents: -1 },
        }),
      ),
    );
    expect(problems).toEqual([
      'runtime must be a DaemonRuntime',
      'kind must be a non-empty string, got 7',
      'memberCount must be an integer in [2, 255], got "3"',
      'groupSeed must be 32 bytes (a Uint8Array), got "seed"',
      'placement must be an array of node ids, got "n1"',
      'replayBufferCapacityEvents must be an integer in [1, 16777216], got NaN',
      "onReplayBufferFull must be one of 'force-sync', 'reject', got \"drop\"",
      'hostConfig.snapshotEveryEvents must be an integer in [0, 9007199254740991], got -1',
      'hostConfig.outputLogCapacityEntries must be an integer in [1, 1048576], got undefined',
      'hostConfig.maxQueuedDeliveries must be an integer in [0, 1048576], got undefined',
    ]);
    expect(problemsOf(() => StandbyGroup.spawn(runtime, 'ledger', untyped(undefined)))).toEqual([
      'config must be an object, got undefined',
    ]);
    expect(runtime.registry.size).toBe(0);
  });

  it('groups name nodes by NodeId: string or non-positive node ids are refused, never silently unmatched', async () => {
    const { runtime } = ledgerRuntime();
    const groupSeed = seedOf(3);
    expect(
      problemsOf(() =>
        StandbyGroup.spawn(runtime, 'ledger', {
          memberCount: 3,
          groupSeed,
          placement: untyped(['n1', 0, 2]),
        }),
      ),
    ).toEqual([
      'placement[0] must be a node id (a positive safe integer), got "n1"',
      'placement[1] must be a node id (a positive safe integer), got 0',
    ]);
    expect(
      problemsOf(() =>
        ReplicaGroup.spawn(runtime, 'ledger', {
          replicaCount: 2,
          groupSeed,
          random: new SeededRandom(1),
          placement: untyped((index: number) => `node-${index}`),
        }),
      ),
    ).toEqual(['placement(0) must be a node id (a positive safe integer), got "node-0"']);
    expect(runtime.registry.size).toBe(0);

    const standbys = StandbyGroup.spawn(runtime, 'ledger', { memberCount: 2, groupSeed, placement: [4, 5] });
    await expect(standbys.onNodeFailure(untyped('4'))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      problems: ['nodeId must be a node id (a positive safe integer), got "4"'],
    });
    expect(problemsOf(() => standbys.onNodeRecovery(untyped(-1)))).toEqual([
      'nodeId must be a node id (a positive safe integer), got -1',
    ]);
    const replicas = ReplicaGroup.spawn(runtime, 'ledger', {
      replicaCount: 1,
      groupSeed: seedOf(4),
      random: new SeededRandom(1),
    });
    expect(problemsOf(() => replicas.onNodeFailure(untyped(1.5)))).toEqual([
      'nodeId must be a node id (a positive safe integer), got 1.5',
    ]);
    expect(standbys.health()).toEqual({ status: 'healthy' });
    expect(replicas.listReplicas().map((replica) => replica.nodeId)).toEqual([1]);
  });

  it('ReplicaGroup.spawn and ForkGroup list every problem', () => {
    const { runtime } = ledgerRuntime();
    expect(
      problemsOf(() =>
        ReplicaGroup.spawn(
          runtime,
          'ledger',
          untyped({ replicaCount: 0, strategy: 'random', placement: 'x' }),
        ),
      ),
    ).toEqual([
      'replicaCount must be an integer in [1, 255], got 0',
      'groupSeed must be 32 bytes (a Uint8Array), got undefined',
      "strategy must be one of 'round-robin', 'consistent-hash', 'power-of-two', got \"random\"",
      'placement must be a function, got "x"',
      'random must be an object, got undefined',
    ]);
    const parent = runtime.spawn('ledger', memberIdentity(seedOf(1), 0)).originHash;
    expect(problemsOf(() => new ForkGroup(runtime, 'ledger', untyped(1), untyped({ clock: {} })))).toEqual([
      'parentOrigin must be a bigint, got 1',
      'options.groupSeed must be 32 bytes (a Uint8Array), got undefined',
      'options.clock lacks the method(s) wallMs',
    ]);
    expect(problemsOf(() => new ForkGroup(runtime, 'ledger', parent, untyped(null)))).toEqual([
      'options must be an object, got null',
    ]);
    // Well-formed input still works.
    const replicas = ReplicaGroup.spawn(runtime, 'ledger', {
      replicaCount: 1,
      groupSeed: seedOf(2),
      random: new SeededRandom(1),
    });
    expect(replicas.replicaCount).toBe(1);
  });

  it('DaemonRuntime refuses malformed options, kinds, spawns, events, hooks and signals', async () => {
    expect(problemsOf(() => new DaemonRuntime(untyped(undefined)))).toEqual([
      'options must be an object, got undefined',
    ]);
    expect(problemsOf(() => new DaemonRuntime(untyped({ clock: {}, hostConfig: 5 })))).toEqual([
      'clock lacks the method(s) nowMs, wallMs, setTimer, clearTimer',
      'hostConfig must be an object, got 5',
    ]);
    const early = new DaemonRuntime({ clock: new ManualClock() });
    expect(problemsOf(() => early.registerKind(untyped(''), untyped('factory')))).toEqual([
      'kind must be a non-empty string, got ""',
      'factory must be a function, got "factory"',
    ]);

    const { runtime } = ledgerRuntime();
    expect(problemsOf(() => runtime.spawn('ledger', untyped({ originHash: 1 }), untyped(3)))).toEqual([
      'identity.originHash must be a bigint',
      'identity.publicKey must be 32 bytes (a Uint8Array), got undefined',
      'identity.privateKey must be a KeyObject',
      'options must be an object, got 3',
    ]);
    const origin = runtime.spawn('ledger', memberIdentity(seedOf(1), 0)).originHash;
    expect(problemsOf(() => runtime.deliver(origin, untyped({ payload: [1, 2], key: 4 })))).toEqual([
      'event.payload must be a Uint8Array, got an array of 2',
      'event.key must be a string when given, got 4',
    ]);
    expect(problemsOf(() => runtime.deliver(origin, untyped(null)))).toEqual([
      'event must be an object, got null',
    ]);
    // The malformed events were refused before the daemon saw them: it is not crashed.
    expect(runtime.deliver(origin, eventOf(1))).toBe(1);
    expect(ledgerOf(runtime, origin).applied).toEqual([1]);
    expect(problemsOf(() => runtime.observe(untyped('origin'), untyped(undefined)))).toEqual([
      'origin must be a bigint, got "origin"',
      'hook must be a function, got undefined',
    ]);
    expect(problemsOf(() => runtime.addGate(origin, untyped({})))).toEqual([
      'hook must be a function, got an object',
    ]);
    expect(problemsOf(() => runtime.onLifecycle(untyped(null)))).toEqual([
      'listener must be a function, got null',
    ]);
    expect(problemsOf(() => runtime.control(origin, untyped({ type: 'pause' })))).toEqual([
      "signal.type must be one of 'shutdown', 'drain-start', 'drain-finish', 'backpressure-on', 'backpressure-off', got \"pause\"",
    ]);
    await expect(runtime.shutdown(untyped('soon'))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      problems: ['graceMs must be a finite number >= 0, got "soon"'],
    });
    expect(runtime.phase).toBe('ready');
  });

  it('DaemonHost and the identity helpers name what is wrong', () => {
    expect(
      problemsOf(
        () =>
          new DaemonHost(
            untyped(undefined),
            untyped({ name: 'x' }),
            untyped(null),
            untyped({}),
            untyped({ sequence: -1 }),
          ),
      ),
    ).toEqual([
      'identity must be an object, got undefined',
      'daemon lacks the method(s) process, health, saturation, onControl',
      'clock must be an object, got null',
      'config.snapshotEveryEvents must be an integer in [0, 9007199254740991], got undefined',
      'config.outputLogCapacityEntries must be an integer in [1, 1048576], got undefined',
      'config.maxQueuedDeliveries must be an integer in [0, 1048576], got undefined',
      'chainPosition.sequence must be an integer in [0, 9007199254740991], got -1',
      'chainPosition.head must be a bigint, got undefined',
    ]);
    expect(problemsOf(() => identityFromSeed(new Uint8Array(3)))).toEqual([
      'seed must be 32 bytes (a Uint8Array), got 3 bytes',
    ]);
    expect(problemsOf(() => memberIdentity(untyped('seed'), -1))).toEqual([
      'groupSeed must be 32 bytes (a Uint8Array), got "seed"',
      'memberIndex must be an integer in [0, 4294967295], got -1',
    ]);
    expect(problemsOf(() => deriveSeed(seedOf(1), untyped(5)))).toEqual(['label must be a string, got 5']);
    expect(new DaemonHost(memberIdentity(seedOf(1), 0), new LedgerDaemon(), new ManualClock()).sequence).toBe(
      0,
    );
  });

  it('chain validation, fork record verification and replica routing name what is malformed', () => {
    expect(problemsOf(() => ChainValidator.fromGenesis(untyped(1)))).toEqual([
      'originHash must be a bigint, got 1',
    ]);
    const validator = ChainValidator.fromGenesis(5n);
    expect(
      problemsOf(() => validator.accept(untyped({ originHash: 5n, sequence: '0' }), untyped(null))),
    ).toEqual([
      'link.parentHash must be a bigint, got undefined',
      'link.sequence must be an integer in [-9007199254740991, 9007199254740991], got "0"',
      'link.horizon must be an integer in [-9007199254740991, 9007199254740991], got undefined',
      'payload must be a Uint8Array, got null',
    ]);
    expect(problemsOf(() => validateChain(5n, untyped('links')))).toEqual([
      'entries must be an array, got "links"',
    ]);
    expect(problemsOf(() => validateChain(5n, untyped([null])))).toEqual([
      'an entry must be an object, got null',
    ]);

    try {
      verifyForkRecord(untyped({ parentOrigin: 1n, forkIndex: -1 }), new Uint8Array(2));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ForkRecordError);
      const message = (error as ForkRecordError).message;
      for (const field of [
        'parentChainHead',
        'childOrigin',
        'forkIndex',
        'createdAtMs',
        'signature',
        'parentPublicKey',
      ]) {
        expect(message).toContain(field);
      }
      expect(message).not.toContain('record.parentOrigin');
    }

    const { runtime } = ledgerRuntime();
    const replicas = ReplicaGroup.spawn(runtime, 'ledger', {
      replicaCount: 2,
      groupSeed: seedOf(3),
      random: new SeededRandom(1),
    });
    expect(problemsOf(() => replicas.route(untyped(7), untyped('random')))).toEqual([
      'key must be a string when given, got 7',
      "strategy must be one of 'round-robin', 'consistent-hash', 'power-of-two', got \"random\"",
    ]);
    expect(problemsOf(() => replicas.deliver(untyped(undefined)))).toEqual([
      'event must be an object, got undefined',
    ]);
    expect(runtime.deliver(replicas.route('k', 'consistent-hash'), eventOf(1, 'k'))).toBe(1);
  });
});
