import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom, ValidationError } from '../../../src/lib/index.js';
import {
  compile,
  compileOrThrow,
  EventLog,
  NameRegistry,
  SpecCompileError,
  type SpecProblem,
  Supervisor,
  type SupervisorSpec,
} from '../../../src/supervisor/index.js';

/**
 * AppSpecs and options as plain JavaScript may pass them: the declared types promise nothing.
 * A malformed spec is reported as compile problems (every one), malformed options and
 * arguments as one ValidationError; never a TypeError from inside.
 */
function untyped<T>(value: unknown): T {
  return value as T;
}

function problemsOf(spec: unknown): { field?: string; child?: string; code: string; message: string }[] {
  const result = compile(untyped<SupervisorSpec>(spec));
  if (result.ok) throw new Error('expected compile problems');
  return result.problems.map((problem: SpecProblem) => ({
    code: problem.code,
    ...('child' in problem ? { child: problem.child } : {}),
    ...('field' in problem ? { field: problem.field } : {}),
    message: problem.message,
  }));
}

const noop = async (): Promise<void> => {};
const options = () => ({ clock: new ManualClock(), random: new SeededRandom(1) });

describe('supervisor input from plain JavaScript', () => {
  it('reports a spec without children, or no spec at all, as compile problems', () => {
    expect(problemsOf({ name: 'x' })).toEqual([
      {
        code: 'INVALID_SUPERVISOR',
        field: 'children',
        message: "supervisor 'x': children must be an array of child specs, got undefined",
      },
    ]);
    expect(problemsOf(null)).toEqual([
      {
        code: 'INVALID_SUPERVISOR',
        field: 'spec',
        message: "supervisor at '(root)' must be an object, got null",
      },
    ]);
    expect(problemsOf({ name: 7, children: [], strategy: 'all-for-one', restartDependents: 'yes' })).toEqual([
      {
        code: 'INVALID_SUPERVISOR',
        field: 'name',
        message: "supervisor '(root)': name must be a string, got 7",
      },
      {
        code: 'INVALID_SUPERVISOR',
        field: 'strategy',
        message:
          'supervisor \'(root)\': strategy must be one of one-for-one, one-for-all, rest-for-one, got "all-for-one"',
      },
      {
        code: 'INVALID_SUPERVISOR',
        field: 'restartDependents',
        message: 'supervisor \'(root)\': restartDependents must be a boolean, got "yes"',
      },
    ]);
    expect(() => compileOrThrow(untyped(undefined))).toThrow(SpecCompileError);
  });

  it('lists every badly shaped child field at once', () => {
    const problems = problemsOf({
      name: 'root',
      children: [
        'store',
        { start: noop },
        {
          name: 'kv',
          start: 'kv.js',
          dependsOn: 'store',
          restart: { type: 'always', maxRestarts: '3', backoff: { initialMs: '10' } },
          stopActions: [{ kind: 'drain' }, { kind: 'halt' }, 5],
          startTimeoutMs: '10s',
          required: 'yes',
          activation: 'lazy',
          resumeState: 'some',
          lease: { onCollision: 'steal' },
        },
        // Depends on the badly shaped 'kv': reported for kv's fields, not as an unknown name.
        { name: 'api', start: noop, dependsOn: ['kv'], restart: 3, supervisor: 'nested' },
      ],
    });
    expect(problems.map(({ child, field }) => `${child}: ${field}`)).toEqual([
      '#0: spec',
      '#1: name',
      'kv: start',
      'kv: dependsOn',
      'kv: restart.type',
      'kv: restart.maxRestarts',
      'kv: restart.backoff.initialMs',
      'kv: stopActions[0].requireResumeState',
      'kv: stopActions[1].kind',
      'kv: stopActions[2]',
      'kv: startTimeoutMs',
      'kv: required',
      'kv: activation',
      'kv: resumeState',
      'kv: lease.onCollision',
      'api: supervisor',
      'api: restart',
    ]);
    expect(problems[2]?.message).toBe("child 'kv' in 'root': start must be a function, got \"kv.js\"");
  });

  it('reports the problems of a nested supervisor with its path', () => {
    const problems = problemsOf({
      name: 'root',
      children: [{ name: 'storage', supervisor: { name: 'storage', children: [{ name: 'wal', start: 1 }] } }],
    });
    expect(problems).toEqual([
      {
        code: 'INVALID_CHILD',
        child: 'wal',
        field: 'start',
        message: "child 'wal' in 'root/storage': start must be a function, got 1",
      },
    ]);
  });

  it('Supervisor refuses malformed options with one ValidationError, and a malformed spec at start', async () => {
    try {
      new Supervisor(
        { name: 'x', children: [] },
        untyped({ clock: {}, eventLogCapacityEvents: 0, onNodeStop: 1 }),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toEqual([
        'clock lacks the method(s) nowMs, wallMs, setTimer, clearTimer',
        'random must be an object, got undefined',
        'eventLogCapacityEvents must be an integer in [1, 1000000], got 0',
        'onNodeStop must be a function, got 1',
      ]);
    }
    expect(() => new Supervisor({ name: 'x', children: [] }, untyped(undefined))).toThrow(ValidationError);

    const partial = new Supervisor(untyped({ name: 'x' }), options());
    await expect(partial.start()).rejects.toMatchObject({ code: 'SUPERVISOR_SPEC_INVALID' });
    expect(partial.phase()).toBe('Failed');
    const missing = new Supervisor(untyped(null), options());
    await expect(missing.start()).rejects.toMatchObject({ code: 'SUPERVISOR_SPEC_INVALID' });

    const idle = new Supervisor({ name: 'x', children: [{ name: 'a', start: noop }] }, options());
    await expect(idle.stopChild('nope')).rejects.toMatchObject({ code: 'SUPERVISOR_BAD_STATE' });
  });

  it('NameRegistry and EventLog refuse malformed arguments', async () => {
    const registry = new NameRegistry();
    await registry.acquire('store', 'root/store', 'fail');
    await expect(
      registry.acquire(untyped(5), '', untyped('steal'), untyped({ onRevoked: 'x' })),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      problems: [
        'name must be a non-empty string, got 5',
        'holder must be a non-empty string, got ""',
        "policy must be one of 'fail', 'replace', 'wait', got \"steal\"",
        'options.onRevoked must be a function, got "x"',
      ],
    });
    expect(() => new EventLog(0)).toThrow(ValidationError);
    expect(() => new EventLog(untyped('many'))).toThrow(ValidationError);
  });
});
