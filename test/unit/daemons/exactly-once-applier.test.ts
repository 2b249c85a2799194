import { describe, expect, it } from 'vitest';
import {
  counterKind,
  type DaemonKind,
  DEFAULT_GUARD_LIMITS,
  ExactlyOnceApplier,
  type ExactlyOnceApplierOptions,
  type InboundEventRecord,
  ROLLBACK_CHECKPOINT_MIN_EVENTS,
  ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT,
} from '../../../src/daemons/index.js';
import { AssertionError, ManualClock, type MeshError } from '../../../src/lib/index.js';
import { context, ScriptedDaemon, textDecoder, textEncoder, texts } from './fixtures.js';

const scriptedKind: DaemonKind = {
  name: 'scripted',
  create: (_config, kindContext) => new ScriptedDaemon(kindContext.daemonName),
};

function options(kind: DaemonKind, clock = new ManualClock()): ExactlyOnceApplierOptions {
  return { kind, config: undefined, context: context(), clock };
}

function record(text: string, clientId?: string, sequence?: number): InboundEventRecord {
  return {
    epoch: 1,
    payload: textEncoder.encode(text),
    ...(clientId === undefined ? {} : { clientId }),
    ...(sequence === undefined ? {} : { sequence }),
  };
}

/** Applies at the next offset; a refusal comes back as its error. */
async function applyNext(applier: ExactlyOnceApplier, next: InboundEventRecord) {
  try {
    return await applier.apply(next, applier.appliedThrough);
  } catch (error) {
    return error as MeshError;
  }
}

function seen(applier: ExactlyOnceApplier): string[] {
  return JSON.parse(textDecoder.decode(applier.state())) as string[];
}

function counterState(applier: ExactlyOnceApplier): string {
  return textDecoder.decode(applier.state());
}

describe('the exactly-once applier', () => {
  it('applies events and answers their outputs and offsets; offsets may skip', async () => {
    const applier = ExactlyOnceApplier.create(options(counterKind));
    expect(await applier.apply(record('2'), 0)).toEqual({
      outputs: [textEncoder.encode('2')],
      duplicate: false,
      inboundOffset: 0,
    });
    expect(texts((await applier.apply(record('3', 'c', 1), 4)).outputs)).toEqual(['5']);
    expect(applier.appliedThrough).toBe(5);
    expect(counterState(applier)).toBe('{"events":2,"sum":5}');
    await expect(applier.apply(record('1'), 4)).rejects.toBeInstanceOf(AssertionError);
  });

  it('answers a retry with the first answer and its offset, applying nothing', async () => {
    const applier = ExactlyOnceApplier.create(options(counterKind));
    await applyNext(applier, record('10', 'c', 1));
    await applyNext(applier, record('5', 'other', 1));
    expect(await applyNext(applier, record('10', 'c', 1))).toEqual({
      outputs: [textEncoder.encode('10')],
      duplicate: true,
      inboundOffset: 0,
    });
    expect(applier.appliedThrough).toBe(3);
    expect(counterState(applier)).toBe('{"events":2,"sum":15}');
  });

  it('refuses a sequence below the client’s last with DAEMON_SEQUENCE_STALE; without a client id nothing is deduplicated', async () => {
    const applier = ExactlyOnceApplier.create(options(counterKind));
    await applyNext(applier, record('1', 'c', 1));
    await applyNext(applier, record('2', 'c', 3));
    expect((await applyNext(applier, record('4', 'c', 2))) as MeshError).toMatchObject({
      code: 'DAEMON_SEQUENCE_STALE',
    });
    expect(counterState(applier)).toBe('{"events":2,"sum":3}');
    for (const plain of [record('1'), record('1'), record('1', 'c')]) await applyNext(applier, plain);
    expect(counterState(applier)).toBe('{"events":5,"sum":6}');
  });

  it('undoes a kind that changed its state before it threw, and answers the retry with the same failure', async () => {
    const applier = ExactlyOnceApplier.create(options(scriptedKind));
    const before = applier.daemon;
    await applyNext(applier, record('a'));
    const failed = (await applyNext(applier, record('throw', 'c', 1))) as MeshError;
    expect(failed.code).toBe('DAEMON_PROCESS_FAILED');
    expect(
      texts(((await applyNext(applier, record('b'))) as unknown as { outputs: Uint8Array[] }).outputs),
    ).toEqual(['seen:2']);
    expect(seen(applier)).toEqual(['a', 'b']);
    expect(applier.daemon).not.toBe(before);
    const retry = (await applyNext(applier, record('throw', 'c', 1))) as MeshError;
    expect(retry).toMatchObject({
      code: 'DAEMON_PROCESS_FAILED',
      message: failed.message,
      details: { duplicate: true },
    });
    expect(seen(applier)).toEqual(['a', 'b']);
  });

  it('undoes across a checkpoint: the events since it are applied again to a fresh daemon', async () => {
    const applier = ExactlyOnceApplier.create(options(scriptedKind));
    const names = Array.from({ length: ROLLBACK_CHECKPOINT_MIN_EVENTS + 5 }, (_, index) => `e${index}`);
    for (const name of names) await applyNext(applier, record(name));
    expect(((await applyNext(applier, record('throw'))) as MeshError).code).toBe('DAEMON_PROCESS_FAILED');
    expect(seen(applier)).toEqual(names);
  });

  it('checkpoints a large state less often, so copying it costs a bounded amount an event', async () => {
    const stateBytes = 200 * ROLLBACK_CHECKPOINT_STATE_BYTES_PER_EVENT;
    let snapshots = 0;
    const large: DaemonKind = {
      name: 'large',
      create: (_config, kindContext) => {
        const daemon = new ScriptedDaemon(kindContext.daemonName);
        daemon.snapshot = () => {
          snapshots += 1;
          return new Uint8Array(stateBytes);
        };
        daemon.restore = () => {};
        return daemon;
      },
    };
    const applier = ExactlyOnceApplier.create(options(large));
    const applyMany = async (count: number) => {
      for (let index = 0; index < count; index++) await applyNext(applier, record('x'));
    };
    // The first checkpoint (of the empty start) comes after the minimum of events...
    await applyMany(ROLLBACK_CHECKPOINT_MIN_EVENTS);
    expect(snapshots).toBe(1);
    // ...the next, of 200 KiB, only after 200 more.
    await applyMany(199);
    expect(snapshots).toBe(1);
    await applyMany(1);
    expect(snapshots).toBe(2);
  });

  it('fails a hung event with DAEMON_PROCESS_TIMEOUT, and its late answer changes nothing', async () => {
    const clock = new ManualClock();
    const applier = ExactlyOnceApplier.create(options(scriptedKind, clock));
    await applyNext(applier, record('a'));
    const hung = applier.daemon as unknown as ScriptedDaemon;
    const pending = applyNext(applier, record('late'));
    expect(() => applier.snapshot()).toThrow(expect.objectContaining({ code: 'DAEMON_MEMBER_BUSY' }));
    clock.advance(DEFAULT_GUARD_LIMITS.deadlineMs);
    expect(((await pending) as MeshError).code).toBe('DAEMON_PROCESS_TIMEOUT');
    hung.releaseLate();
    await Promise.resolve();
    await applyNext(applier, record('b'));
    expect(seen(applier)).toEqual(['a', 'b']);
  });

  it('carries exactly-once through its snapshot: a restored applier answers retries without applying', async () => {
    const first = ExactlyOnceApplier.create(options(counterKind));
    await applyNext(first, record('7', 'c', 1));
    await applyNext(first, record('8', 'd', 4));
    const restored = ExactlyOnceApplier.restore(options(counterKind), first.snapshot());
    expect(restored.appliedThrough).toBe(2);
    expect(restored.dedupEntries()).toEqual(first.dedupEntries());
    expect(await applyNext(restored, record('8', 'd', 4))).toEqual({
      outputs: [textEncoder.encode('15')],
      duplicate: true,
      inboundOffset: 1,
    });
    await applyNext(restored, record('1', 'd', 5));
    expect(counterState(restored)).toBe('{"events":3,"sum":16}');
  });

  it('is broken when undoing fails (a kind that does not repeat itself), and refuses every later call', async () => {
    let created = 0;
    const flaky: DaemonKind = {
      name: 'flaky',
      create: (_config, kindContext) => {
        created += 1;
        const daemon = new ScriptedDaemon(kindContext.daemonName);
        // Every daemon after the first throws on everything, so the undo's replay fails.
        if (created > 1)
          daemon.process = () => {
            throw new Error('different this time');
          };
        return daemon;
      },
    };
    const applier = ExactlyOnceApplier.create(options(flaky));
    await applyNext(applier, record('a'));
    expect(await applyNext(applier, record('throw'))).toMatchObject({ code: 'DAEMON_MEMBER_BROKEN' });
    expect(await applyNext(applier, record('b'))).toMatchObject({ code: 'DAEMON_MEMBER_BROKEN' });
    expect(() => applier.snapshot()).toThrow(expect.objectContaining({ code: 'DAEMON_MEMBER_BROKEN' }));
  });

  it('refuses bytes that are not a member snapshot, and a kind that cannot create', () => {
    expect(() => ExactlyOnceApplier.restore(options(counterKind), new Uint8Array([9]))).toThrow(
      expect.objectContaining({ code: 'DAEMON_STATE_INVALID' }),
    );
    const failing: DaemonKind = {
      name: 'failing',
      create: () => {
        throw new Error('no');
      },
    };
    expect(() => ExactlyOnceApplier.create(options(failing))).toThrow(
      expect.objectContaining({
        code: 'DAEMON_MEMBER_BROKEN',
        message: "daemon d1's member is broken: the kind failed to create a daemon",
      }),
    );
  });
});
