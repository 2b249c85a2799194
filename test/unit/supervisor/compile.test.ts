import { describe, expect, it } from 'vitest';
import {
  type ChildSpec,
  compile,
  compileOrThrow,
  DEFAULT_MAX_RESTARTS,
  SpecCompileError,
  type SpecProblem,
} from '../../../src/supervisor/index.js';

const noop = async (): Promise<void> => {};

function child(name: string, extra: Partial<ChildSpec> = {}): ChildSpec {
  return { name, start: noop, ...extra };
}

function problemsOf(children: ChildSpec[]): readonly SpecProblem[] {
  const result = compile({ name: 'root', children });
  if (result.ok) throw new Error('expected compile problems');
  return result.problems;
}

describe('compile: order', () => {
  it('orders topologically with ties broken by declaration order; stop order is the reverse', () => {
    const compiled = compileOrThrow({
      name: 'root',
      children: [
        child('api', { dependsOn: ['raft', 'kv'] }),
        child('kv', { dependsOn: ['raft'] }),
        child('metrics'),
        child('raft', { dependsOn: ['store'] }),
        child('store'),
      ],
    });
    expect(compiled.startOrder).toEqual(['metrics', 'store', 'raft', 'kv', 'api']);
    expect(compiled.stopOrder).toEqual(['api', 'kv', 'raft', 'store', 'metrics']);
    expect(compiled.childrenByName.get('raft')?.dependents).toEqual(['api', 'kv']);
  });

  it('fills in defaults', () => {
    const compiled = compileOrThrow({
      name: 'root',
      children: [child('a'), child('b', { required: false })],
    });
    const [a, b] = compiled.children;
    expect(compiled.strategy).toBe('one-for-one');
    expect(compiled.restartDependents).toBe(true);
    expect(a?.restart).toMatchObject({
      type: 'permanent',
      maxRestarts: DEFAULT_MAX_RESTARTS,
      onExhausted: 'critical',
    });
    expect(b?.restart.onExhausted).toBe('disable-optional');
    expect(a?.region).toBe('root/a');
    expect(a?.lease).toEqual({ name: 'a', onCollision: 'fail' });
    expect(a?.stopActions).toEqual([{ kind: 'release-name-lease' }, { kind: 'stop-child' }]);
  });
});

describe('compile: lifecycle plans', () => {
  it('plans start events for eager children and per-child shutdown actions ending in join-root', () => {
    const compiled = compileOrThrow({
      name: 'root',
      children: [
        child('store'),
        child('transfers', {
          dependsOn: ['store'],
          resumeState: 'required',
          stopActions: [
            { kind: 'drain', requireResumeState: true },
            { kind: 'release-name-lease' },
            { kind: 'stop-child' },
          ],
        }),
        child('search', { activation: 'on-demand', required: false }),
      ],
    });
    expect(compiled.startEvents).toEqual([
      { phase: 'Starting', child: 'store', action: 'start-child' },
      { phase: 'Starting', child: 'transfers', action: 'start-child' },
    ]);
    expect(compiled.shutdownEvents).toEqual([
      { phase: 'Draining', child: 'search', action: 'release-name-lease' },
      { phase: 'Draining', child: 'search', action: 'stop-child' },
      { phase: 'Draining', child: 'transfers', action: 'drain' },
      { phase: 'Draining', child: 'transfers', action: 'release-name-lease' },
      { phase: 'Draining', child: 'transfers', action: 'stop-child' },
      { phase: 'Draining', child: 'store', action: 'release-name-lease' },
      { phase: 'Draining', child: 'store', action: 'stop-child' },
      { phase: 'Stopped', action: 'join-root' },
    ]);
  });
});

describe('compile: problems', () => {
  it('returns every problem at once, each typed', () => {
    const problems = problemsOf([
      child('a', { region: 'shared' }),
      child('a'),
      child('b', { region: 'shared', dependsOn: ['ghost'] }),
      child('c', { dependsOn: ['d'] }),
      child('d', { dependsOn: ['c'] }),
      child('opt', { required: false }),
      child('needs-opt', { dependsOn: ['opt'] }),
      child('stateful', { resumeState: 'required' }),
    ]);
    expect(problems.map((problem) => problem.code)).toEqual([
      'DUPLICATE_NAME',
      'DUPLICATE_REGION',
      'DRAIN_ACTION_MISSING',
      'UNKNOWN_DEPENDENCY',
      'REQUIRED_DEPENDS_ON_OPTIONAL',
      'DEPENDENCY_CYCLE',
    ]);
    const cycle = problems.find((problem) => problem.code === 'DEPENDENCY_CYCLE');
    expect(cycle?.code === 'DEPENDENCY_CYCLE' && cycle.cycle).toEqual(['c', 'd']);
    expect(cycle?.message).toContain('c -> d -> c');
    const region = problems.find((problem) => problem.code === 'DUPLICATE_REGION');
    expect(region?.code === 'DUPLICATE_REGION' && region.children).toEqual(['root/a', 'root/b']);
  });

  it('names a self-dependency as a cycle of one', () => {
    const problems = problemsOf([child('loop', { dependsOn: ['loop'] })]);
    expect(problems).toMatchObject([{ code: 'DEPENDENCY_CYCLE', cycle: ['loop'] }]);
  });

  it('reports a drain action that does not persist resume state as missing', () => {
    const problems = problemsOf([
      child('stateful', {
        resumeState: 'required',
        stopActions: [{ kind: 'drain', requireResumeState: false }, { kind: 'stop-child' }],
      }),
    ]);
    expect(problems.map((problem) => problem.code)).toEqual(['DRAIN_ACTION_MISSING']);
  });

  it('rejects bad values, start/supervisor confusion, misordered stop actions and eager-on-demand edges', () => {
    const problems = problemsOf([
      { name: 'neither' },
      child('both', { supervisor: { name: 'inner', children: [] } }),
      child('timeouts', { startTimeoutMs: 0, shutdownTimeoutMs: -1 }),
      child('policy', {
        restart: {
          maxRestarts: -1,
          periodMs: 0,
          backoff: { initialMs: 10, maxMs: 5, multiplier: 0.5, jitterRatio: 2 },
        },
      }),
      child('disable-required', { restart: { onExhausted: 'disable-optional' } }),
      child('stop-first', { stopActions: [{ kind: 'stop-child' }, { kind: 'release-name-lease' }] }),
      child('lazy', { activation: 'on-demand' }),
      child('eager', { dependsOn: ['lazy'] }),
    ]);
    const fields = problems.map((problem) =>
      problem.code === 'INVALID_CHILD' ? `${problem.child}.${problem.field}` : problem.code,
    );
    expect(fields).toEqual([
      'neither.start',
      'both.start',
      'timeouts.startTimeoutMs',
      'timeouts.shutdownTimeoutMs',
      'policy.restart.maxRestarts',
      'policy.restart.periodMs',
      'policy.restart.backoff',
      'policy.restart.backoff.multiplier',
      'policy.restart.backoff.jitterRatio',
      'disable-required.restart.onExhausted',
      'stop-first.stopActions',
      'EAGER_DEPENDS_ON_ON_DEMAND',
    ]);
  });

  it('checks nested supervisors and names where each problem sits', () => {
    const result = compile({
      name: 'node',
      children: [
        child('store', { region: 'node/storage/wal' }),
        {
          name: 'storage',
          supervisor: {
            name: 'storage',
            children: [
              child('wal', { dependsOn: ['compactor'] }),
              child('compactor', { dependsOn: ['wal'] }),
            ],
          },
        },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => [problem.code, problem.supervisor])).toEqual([
      ['DUPLICATE_REGION', 'node/storage'],
      ['DEPENDENCY_CYCLE', 'node/storage'],
    ]);
  });

  it('compileOrThrow throws a SpecCompileError carrying the typed problems', () => {
    expect(() => compileOrThrow({ name: 'root', children: [child('a', { dependsOn: ['b'] })] })).toThrow(
      SpecCompileError,
    );
    try {
      compileOrThrow({ name: 'root', children: [child('a', { dependsOn: ['b'] })] });
    } catch (error) {
      expect((error as SpecCompileError).code).toBe('SUPERVISOR_SPEC_INVALID');
      expect((error as SpecCompileError).problems).toMatchObject([
        { code: 'UNKNOWN_DEPENDENCY', child: 'a', dependency: 'b' },
      ]);
    }
  });
});
