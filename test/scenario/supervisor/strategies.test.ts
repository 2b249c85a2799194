import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import { type ChildSpec, type Strategy, Supervisor } from '../../../src/supervisor/index.js';
import { Fleet, settle } from './fleet.js';

const BACKOFF_MS = 100;

function childSpec(fleet: Fleet, name: string, dependsOn: string[] = []): ChildSpec {
  return {
    name,
    start: fleet.child(name),
    dependsOn,
    restart: { maxRestarts: 5, periodMs: 60_000, backoff: { initialMs: BACKOFF_MS, jitterRatio: 0 } },
  };
}

async function bootThree(
  strategy: Strategy,
  restartDependents: boolean,
  dependencies: Record<string, string[]> = {},
) {
  const clock = new ManualClock();
  const fleet = new Fleet();
  const supervisor = new Supervisor(
    {
      name: 'root',
      strategy,
      restartDependents,
      children: ['a', 'b', 'c'].map((name) => childSpec(fleet, name, dependencies[name] ?? [])),
    },
    { clock, random: new SeededRandom(1) },
  );
  await supervisor.start();
  return { clock, fleet, supervisor };
}

/** Crashes `name`, returns the stop/start sequence that follows, split at the backoff. */
async function crashAndRecord(setup: Awaited<ReturnType<typeof bootThree>>, name: string) {
  const cursor = setup.fleet.trace.length;
  setup.fleet.crash(name);
  await settle();
  const beforeBackoff = setup.fleet.since(cursor);
  setup.clock.advance(BACKOFF_MS);
  await settle();
  return { beforeBackoff, afterBackoff: setup.fleet.since(cursor + beforeBackoff.length) };
}

describe('restart strategies (children a, b, c started in that order; b crashes)', () => {
  it('one-for-one restarts only the crashed child, after the backoff', async () => {
    const setup = await bootThree('one-for-one', false);
    const { beforeBackoff, afterBackoff } = await crashAndRecord(setup, 'b');
    expect(beforeBackoff).toEqual([]);
    expect(afterBackoff).toEqual(['start b#2']);
    expect(setup.supervisor.children().map((child) => child.status)).toEqual([
      'running',
      'running',
      'running',
    ]);
  });

  it('rest-for-one stops the children started after it (in reverse), then restarts them in order', async () => {
    const setup = await bootThree('rest-for-one', false);
    const { beforeBackoff, afterBackoff } = await crashAndRecord(setup, 'b');
    expect(beforeBackoff).toEqual(['stop c#1']);
    expect(afterBackoff).toEqual(['start b#2', 'start c#2']);
  });

  it('one-for-all stops every other child in reverse start order, then restarts all in start order', async () => {
    const setup = await bootThree('one-for-all', false);
    const { beforeBackoff, afterBackoff } = await crashAndRecord(setup, 'b');
    expect(beforeBackoff).toEqual(['stop c#1', 'stop a#1']);
    expect(afterBackoff).toEqual(['start a#2', 'start b#2', 'start c#2']);
  });

  it('dependency-aware one-for-one stops dependents before and restarts them after the crashed child', async () => {
    // c depends on a; b is independent. Start order: a, b, c.
    const setup = await bootThree('one-for-one', true, { c: ['a'] });
    const { beforeBackoff, afterBackoff } = await crashAndRecord(setup, 'a');
    expect(beforeBackoff).toEqual(['stop c#1']);
    expect(afterBackoff).toEqual(['start a#2', 'start c#2']);
    expect(setup.fleet.trace.filter((entry) => entry.startsWith('start b'))).toEqual(['start b#1']);
  });

  it('without dependency awareness a dependent keeps running through its dependency restart', async () => {
    const setup = await bootThree('one-for-one', false, { c: ['a'] });
    const { beforeBackoff, afterBackoff } = await crashAndRecord(setup, 'a');
    expect(beforeBackoff).toEqual([]);
    expect(afterBackoff).toEqual(['start a#2']);
  });

  it('records the restart in the event log and the metrics', async () => {
    const setup = await bootThree('rest-for-one', false);
    await crashAndRecord(setup, 'b');
    const actions = setup.supervisor
      .events()
      .filter((event) => event.child === 'b')
      .map((event) => event.action);
    expect(actions).toEqual([
      'start-child',
      'child-ready',
      'child-crashed',
      'release-name-lease',
      'restart-scheduled',
      'restart-child',
      'start-child',
      'child-ready',
    ]);
    const metrics = setup.supervisor.metrics();
    expect(metrics.childCrashes).toBe(1);
    expect(metrics.restarts).toBe(2);
    expect(metrics.runningChildren).toBe(3);
  });
});

describe('overlapping restarts', () => {
  it('a child depending on two crashed children restarts once both are back, whatever the strategy flag', async () => {
    for (const restartDependents of [true, false]) {
      const clock = new ManualClock();
      const fleet = new Fleet();
      const supervisor = new Supervisor(
        {
          name: 'root',
          restartDependents,
          children: [
            childSpec(fleet, 'a'),
            childSpec(fleet, 'd'),
            { ...childSpec(fleet, 'b', ['a', 'd']), restart: { backoff: { initialMs: 50, jitterRatio: 0 } } },
          ],
        },
        { clock, random: new SeededRandom(1) },
      );
      await supervisor.start();
      fleet.crash('a');
      await settle();
      clock.advance(40);
      fleet.crash('d');
      await settle();
      if (!restartDependents) {
        // Nothing stops b here: it keeps running on its own through both restarts.
        clock.advance(200);
        await settle();
        expect(supervisor.children().every((child) => child.status === 'running')).toBe(true);
        continue;
      }
      clock.advance(60);
      await settle();
      // a is back at 100 ms, but b still waits for d (due at 140 ms).
      expect(supervisor.children().find((child) => child.name === 'b')?.status).toBe('restarting');
      clock.advance(40);
      await settle();
      expect(supervisor.children().map((child) => [child.name, child.status])).toEqual([
        ['a', 'running'],
        ['d', 'running'],
        ['b', 'running'],
      ]);
      expect(fleet.trace.filter((entry) => entry.startsWith('start b'))).toEqual(['start b#1', 'start b#2']);
    }
  });
});
