import { describe, expect, it } from 'vitest';
import type { MeshDaemon } from '../../../src/compute/index.js';
import { DEFAULT_GUARD_LIMITS, type GuardLimits, guardedProcess } from '../../../src/daemons/index.js';
import { ManualClock, type MeshError } from '../../../src/lib/index.js';
import { eventOf, ScriptedDaemon, texts } from './fixtures.js';

const SITE = { daemonName: 'd1', inboundOffset: 7 };

async function failure(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    return error as MeshError;
  }
  throw new Error('expected a failure');
}

/** A daemon whose `process` answers `answer` as it is. */
function answering(answer: unknown): MeshDaemon {
  const daemon = new ScriptedDaemon('d1');
  daemon.process = () => answer as readonly Uint8Array[];
  return daemon;
}

describe('guarded process', () => {
  it('answers the outputs, copied so the kind may reuse its buffers', async () => {
    const buffer = new Uint8Array([1, 2, 3]);
    const outputs = await guardedProcess(answering([buffer]), eventOf('x'), SITE, new ManualClock());
    buffer.fill(0);
    expect(outputs).toEqual([new Uint8Array([1, 2, 3])]);
    expect(
      texts(await guardedProcess(new ScriptedDaemon('d1'), eventOf('async'), SITE, new ManualClock())),
    ).toEqual(['seen:1']);
  });

  it('turns a throw and a rejection into DAEMON_PROCESS_FAILED naming the cause', async () => {
    const thrown = await failure(
      guardedProcess(new ScriptedDaemon('d1'), eventOf('throw'), SITE, new ManualClock()),
    );
    expect(thrown.code).toBe('DAEMON_PROCESS_FAILED');
    expect(thrown.message).toBe(
      'daemon d1 failed applying the event at 7: the kind threw Error: scripted failure',
    );
    const rejecting = answering(Promise.reject(Object.assign(new Error('nope'), { code: 'MY_CODE' })));
    const rejected = await failure(guardedProcess(rejecting, eventOf('x'), SITE, new ManualClock()));
    expect(rejected.code).toBe('DAEMON_PROCESS_FAILED');
    expect(rejected.message).toContain("the kind's promise rejected with MY_CODE: nope");
    const thrownString = answering(undefined);
    thrownString.process = () => {
      throw 'text';
    };
    expect(
      (await failure(guardedProcess(thrownString, eventOf('x'), SITE, new ManualClock()))).message,
    ).toContain('the kind threw "text"');
  });

  it('fails a promise that does not settle by the deadline with DAEMON_PROCESS_TIMEOUT, and not before', async () => {
    const clock = new ManualClock();
    let settled: MeshError | undefined;
    const running = guardedProcess(new ScriptedDaemon('d1'), eventOf('hang'), SITE, clock).catch((error) => {
      settled = error as MeshError;
    });
    await Promise.resolve();
    clock.advance(DEFAULT_GUARD_LIMITS.deadlineMs - 1);
    await Promise.resolve();
    expect(settled).toBeUndefined();
    clock.advance(1);
    await running;
    expect(settled?.code).toBe('DAEMON_PROCESS_TIMEOUT');
    expect(settled?.message).toBe(
      `daemon d1 did not finish the event at 7 within ${DEFAULT_GUARD_LIMITS.deadlineMs} ms; not applied`,
    );
  });

  it('clears its deadline timer when the promise settles in time', async () => {
    const clock = new ManualClock();
    await guardedProcess(new ScriptedDaemon('d1'), eventOf('async'), SITE, clock);
    expect(clock.pendingTimerCount()).toBe(0);
  });

  it('refuses an event above the limit with DAEMON_EVENT_TOO_LARGE without calling the kind', async () => {
    const daemon = new ScriptedDaemon('d1');
    const limits: GuardLimits = { ...DEFAULT_GUARD_LIMITS, maxEventBytes: 3 };
    const error = await failure(guardedProcess(daemon, eventOf('four'), SITE, new ManualClock(), limits));
    expect(error.code).toBe('DAEMON_EVENT_TOO_LARGE');
    expect(daemon.seen).toEqual([]);
    expect(await guardedProcess(daemon, eventOf('abc'), SITE, new ManualClock(), limits)).toHaveLength(1);
  });

  it('fails answers past the output limits or of the wrong shape, naming what is wrong', async () => {
    const limits: GuardLimits = {
      ...DEFAULT_GUARD_LIMITS,
      maxOutputsPerEvent: 2,
      maxOutputBytes: 4,
      maxOutputBytesPerEvent: 6,
    };
    const cases: [unknown, string][] = [
      [[new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)], '3 outputs, more than the limit of 2'],
      [[new Uint8Array(5)], 'output 0 has 5 bytes, more than the limit of 4'],
      [[new Uint8Array(4), new Uint8Array(3)], 'outputs of 7 bytes together, more than the limit of 6'],
      [['text'], 'output 0 is "text", not a Uint8Array'],
      [undefined, 'process answered undefined, not an array of Uint8Array'],
      [Promise.resolve(new Uint8Array(2)), 'process answered 2 bytes, not an array of Uint8Array'],
    ];
    for (const [answer, reason] of cases) {
      const error = await failure(
        guardedProcess(answering(answer), eventOf('x'), SITE, new ManualClock(), limits),
      );
      expect(error.code).toBe('DAEMON_PROCESS_FAILED');
      expect(error.message).toBe(`daemon d1 failed applying the event at 7: ${reason}`);
    }
  });
});
