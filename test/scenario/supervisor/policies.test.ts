import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import {
  type ChildSpec,
  EscalationError,
  type RestartPolicyInput,
  Supervisor,
} from '../../../src/supervisor/index.js';
import { Fleet, runFor, settle } from './fleet.js';

const QUICK: RestartPolicyInput = {
  maxRestarts: 3,
  periodMs: 10_000,
  backoff: { initialMs: 10, multiplier: 2, maxMs: 1_000, jitterRatio: 0 },
};

async function boot(children: (fleet: Fleet) => ChildSpec[]) {
  const clock = new ManualClock();
  const fleet = new Fleet();
  const nodeStops: EscalationError[] = [];
  const supervisor = new Supervisor(
    { name: 'node', strategy: 'one-for-one', children: children(fleet) },
    { clock, random: new SeededRandom(7), onNodeStop: (error) => nodeStops.push(error) },
  );
  await supervisor.start();
  return { clock, fleet, supervisor, nodeStops };
}

function starts(fleet: Fleet, name: string): number {
  return fleet.trace.filter((entry) => entry.startsWith(`start ${name}#`)).length;
}

describe('restart types', () => {
  it.each([
    ['permanent', 'crash', 2],
    ['permanent', 'normal exit', 2],
    ['transient', 'crash', 2],
    ['transient', 'normal exit', 1],
    ['temporary', 'crash', 1],
    ['temporary', 'normal exit', 1],
  ] as const)('a %s child after a %s is started %i time(s) in all', async (type, ending, expectedStarts) => {
    const setup = await boot((fleet) => [
      { name: 'worker', start: fleet.child('worker'), restart: { ...QUICK, type } },
    ]);
    if (ending === 'crash') setup.fleet.crash('worker');
    else setup.fleet.exit('worker');
    await settle();
    setup.clock.advance(1_000);
    await settle();
    expect(starts(setup.fleet, 'worker')).toBe(expectedStarts);
    expect(setup.supervisor.phase()).toBe('Running');
  });
});

describe('restart intensity and backoff', () => {
  it('backs off exponentially between restarts inside the window', async () => {
    const setup = await boot((fleet) => [{ name: 'worker', start: fleet.child('worker'), restart: QUICK }]);
    for (const delayMs of [10, 20, 40]) {
      setup.fleet.crash('worker');
      await settle();
      const before = starts(setup.fleet, 'worker');
      setup.clock.advance(delayMs - 1);
      await settle();
      expect(starts(setup.fleet, 'worker')).toBe(before);
      setup.clock.advance(1);
      await settle();
      expect(starts(setup.fleet, 'worker')).toBe(before + 1);
    }
  });

  it('a crash storm spends the budget of a critical child and stops the node with the reason', async () => {
    const setup = await boot((fleet) => [
      { name: 'store', start: fleet.child('store') },
      { name: 'engine', start: fleet.child('engine'), dependsOn: ['store'], restart: QUICK },
      { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
    ]);
    for (let crash = 0; crash < 3; crash++) {
      setup.fleet.crash('engine', `engine fault ${crash + 1}`);
      await settle();
      setup.clock.advance(100);
      await settle();
    }
    expect(setup.supervisor.phase()).toBe('Running');
    const cursor = setup.fleet.trace.length;
    setup.fleet.crash('engine', 'engine fault 4');
    await settle();

    expect(setup.supervisor.phase()).toBe('Failed');
    expect(setup.fleet.since(cursor)).toEqual(['stop api#1', 'stop store#1']);
    expect(setup.nodeStops).toHaveLength(1);
    const error = setup.nodeStops[0];
    expect(error).toBeInstanceOf(EscalationError);
    expect(error?.child).toBe('engine');
    expect(error?.message).toContain('engine fault 4');
    expect(error?.message).toContain('3 in 10000 ms');
    expect(setup.supervisor.failure()).toBe(error);
    const actions = setup.supervisor.events().map((event) => event.action);
    expect(actions).toContain('restart-exhausted');
    expect(actions).toContain('escalate');
    expect(setup.supervisor.metrics()).toMatchObject({
      escalations: 1,
      restartsExhausted: 1,
      childCrashes: 4,
    });
  });

  it('a critical child with no restarts allowed stops the node on its first crash, saying so', async () => {
    const setup = await boot((fleet) => [
      { name: 'store', start: fleet.child('store'), restart: { maxRestarts: 0 } },
      { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
    ]);
    const cursor = setup.fleet.trace.length;
    setup.fleet.crash('store', 'disk gone');
    await settle();
    expect(setup.supervisor.phase()).toBe('Failed');
    expect(setup.fleet.since(cursor)).toEqual(['stop api#1']);
    expect(setup.nodeStops.map((error) => error.message)).toEqual([
      "supervisor 'node' gave up: child 'store' failed and is never restarted: disk gone",
    ]);
  });

  it('restarts spread wider than the period never spend the budget', async () => {
    const setup = await boot((fleet) => [
      {
        name: 'worker',
        start: fleet.child('worker'),
        restart: { ...QUICK, maxRestarts: 1, periodMs: 1_000 },
      },
    ]);
    for (let crash = 0; crash < 5; crash++) {
      setup.fleet.crash('worker');
      await settle();
      setup.clock.advance(1_500);
      await settle();
    }
    expect(starts(setup.fleet, 'worker')).toBe(6);
    expect(setup.supervisor.phase()).toBe('Running');
    expect(setup.nodeStops).toEqual([]);
  });

  it('children() counts every restart since boot, beyond the window, and keeps the last reason', async () => {
    const setup = await boot((fleet) => [
      { name: 'store', start: fleet.child('store') },
      {
        name: 'worker',
        start: fleet.child('worker'),
        restart: { ...QUICK, maxRestarts: 2, periodMs: 1_000 },
      },
    ]);
    const worker = () => setup.supervisor.children().find((child) => child.name === 'worker');
    expect(worker()).toMatchObject({ restarts: 0, restartsInWindow: 0 });
    expect(worker()?.lastExitReason).toBeUndefined();
    for (let crash = 1; crash <= 3; crash++) {
      setup.fleet.crash('worker', `worker fault ${crash}`);
      await settle();
      setup.clock.advance(600);
      await settle();
    }
    // Restarts at 0, 600 and 1200 ms; at 1800 ms the 1 000 ms window holds only the last.
    expect(worker()).toMatchObject({
      status: 'running',
      restarts: 3,
      restartsInWindow: 1,
      lastExitReason: 'worker fault 3',
    });
    setup.clock.advance(1_000);
    expect(worker()).toMatchObject({ restarts: 3, restartsInWindow: 0 });
    expect(setup.supervisor.children().find((child) => child.name === 'store')).toMatchObject({
      restarts: 0,
      incarnation: 1,
    });
  });

  it('a restart that fails to start counts against the budget too', async () => {
    const setup = await boot((fleet) => [
      {
        name: 'worker',
        start: fleet.child('worker', {
          failStart: (incarnation) => (incarnation > 1 ? new Error('config missing') : undefined),
        }),
        restart: QUICK,
      },
    ]);
    setup.fleet.crash('worker');
    await settle();
    await runFor(setup.clock, 1_000);
    expect(starts(setup.fleet, 'worker')).toBe(4);
    expect(setup.supervisor.phase()).toBe('Failed');
    expect(setup.nodeStops[0]?.message).toContain('config missing');
  });
});

describe('disable-optional', () => {
  it('disables an optional child that spends its budget, with its optional dependents, and keeps the rest', async () => {
    const setup = await boot((fleet) => [
      { name: 'store', start: fleet.child('store') },
      {
        name: 'metrics',
        start: fleet.child('metrics'),
        required: false,
        restart: { ...QUICK, maxRestarts: 1 },
      },
      { name: 'dashboard', start: fleet.child('dashboard'), required: false, dependsOn: ['metrics'] },
      { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
    ]);
    setup.fleet.crash('metrics');
    await settle();
    setup.clock.advance(100);
    await settle();
    const cursor = setup.fleet.trace.length;
    setup.fleet.crash('metrics', 'metrics exporter lost its port');
    await settle();

    expect(setup.fleet.since(cursor)).toEqual(['stop dashboard#2']);
    expect(setup.supervisor.phase()).toBe('Running');
    expect(
      Object.fromEntries(setup.supervisor.children().map((child) => [child.name, child.status])),
    ).toEqual({
      store: 'running',
      metrics: 'disabled',
      dashboard: 'disabled',
      api: 'running',
    });
    const disabled = setup.supervisor.events().filter((event) => event.action === 'child-disabled');
    expect(disabled.map((event) => event.child)).toEqual(['metrics', 'dashboard']);
    expect(disabled[0]?.reason).toContain('metrics exporter lost its port');
    expect(setup.nodeStops).toEqual([]);
  });

  it('stops the dependents of a disabled child in stop order: the last dependent first', async () => {
    const setup = await boot((fleet) => [
      { name: 'opt', start: fleet.child('opt'), required: false, restart: { ...QUICK, maxRestarts: 0 } },
      { name: 'd1', start: fleet.child('d1'), required: false, dependsOn: ['opt'] },
      { name: 'd2', start: fleet.child('d2'), required: false, dependsOn: ['d1'] },
    ]);
    const cursor = setup.fleet.trace.length;
    setup.fleet.crash('opt', 'opt lost its disk');
    await settle();

    expect(setup.fleet.since(cursor)).toEqual(['stop d2#1', 'stop d1#1']);
    expect(setup.supervisor.children().map((child) => [child.name, child.status])).toEqual([
      ['opt', 'disabled'],
      ['d1', 'disabled'],
      ['d2', 'disabled'],
    ]);
    expect(setup.supervisor.phase()).toBe('Running');
  });
});
