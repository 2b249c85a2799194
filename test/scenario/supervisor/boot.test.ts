import { describe, expect, it } from 'vitest';
import { isMeshError, ManualClock, SeededRandom } from '../../../src/lib/index.js';
import {
  BootFailedError,
  type LifecyclePhase,
  SpecCompileError,
  Supervisor,
} from '../../../src/supervisor/index.js';
import { Fleet, settle } from './fleet.js';

describe('boot', () => {
  it('starts each child only after the children it depends on are ready', async () => {
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
          { name: 'store', start: fleet.child('store', { autoReady: false }) },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    const booting = supervisor.start();
    await settle();
    expect(fleet.trace).toEqual(['start store#1']);
    expect(supervisor.phase()).toBe('Starting');
    fleet.ready('store');
    await booting;
    expect(fleet.trace).toEqual(['start store#1', 'start api#1']);
    expect(supervisor.phase()).toBe('Running');
  });

  it('rolls back in reverse order when a required child fails, naming the child and the reason', async () => {
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          { name: 'raft', start: fleet.child('raft'), dependsOn: ['store'] },
          {
            name: 'api',
            start: fleet.child('api', { failStart: () => new Error('port 2379 in use') }),
            dependsOn: ['raft'],
          },
          { name: 'deck', start: fleet.child('deck'), dependsOn: ['api'] },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    const error = await supervisor.start().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BootFailedError);
    expect(isMeshError(error, 'SUPERVISOR_BOOT_FAILED')).toBe(true);
    expect((error as BootFailedError).child).toBe('api');
    expect((error as Error).message).toContain("child 'api' failed to start: port 2379 in use");
    expect(fleet.trace).toEqual([
      'start store#1',
      'start raft#1',
      'start api#1',
      'stop raft#1',
      'stop store#1',
    ]);
    expect(supervisor.phase()).toBe('Failed');
    expect(supervisor.failure()).toBe(error);
    expect(supervisor.names().heldNames()).toEqual([]);
  });

  it('fails the boot when a child is not ready within its start timeout', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          { name: 'slow', start: fleet.child('slow', { autoReady: false }), startTimeoutMs: 1_000 },
        ],
      },
      { clock, random: new SeededRandom(1) },
    );
    const outcome = supervisor.start().then(
      () => 'booted',
      (error: unknown) => (error as Error).message,
    );
    await settle();
    clock.advance(1_000);
    expect(await outcome).toContain("child 'slow' failed to start: not ready within 1000 ms");
    expect(fleet.trace).toEqual(['start store#1', 'start slow#1', 'stop slow#1', 'stop store#1']);
  });

  it('disables an optional child that fails at boot and its dependents, and boots the rest', async () => {
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          {
            name: 'relay',
            required: false,
            start: fleet.child('relay', { failStart: () => new Error('no public address') }),
          },
          { name: 'relay-stats', required: false, start: fleet.child('relay-stats'), dependsOn: ['relay'] },
          { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    await supervisor.start();
    expect(supervisor.phase()).toBe('Running');
    expect(fleet.trace).toEqual(['start store#1', 'start relay#1', 'start api#1']);
    expect(supervisor.children().map((child) => [child.name, child.status])).toEqual([
      ['store', 'running'],
      ['relay', 'disabled'],
      ['relay-stats', 'disabled'],
      ['api', 'running'],
    ]);
    const disabled = supervisor.events().find((event) => event.action === 'child-disabled');
    expect(disabled?.reason).toContain('no public address');
  });

  it('starts on-demand children only when asked, dependencies first', async () => {
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          { name: 'index', start: fleet.child('index'), activation: 'on-demand', dependsOn: ['store'] },
          { name: 'search', start: fleet.child('search'), activation: 'on-demand', dependsOn: ['index'] },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    await supervisor.start();
    expect(fleet.trace).toEqual(['start store#1']);
    await supervisor.startChild('search');
    expect(fleet.trace).toEqual(['start store#1', 'start index#1', 'start search#1']);
    await supervisor.stopChild('index');
    expect(fleet.trace.slice(-2)).toEqual(['stop search#1', 'stop index#1']);
    expect(supervisor.children().find((child) => child.name === 'store')?.status).toBe('running');
  });
});

describe('lifecycle phases', () => {
  it('moves Constructed -> Compiled -> Starting -> Running -> Draining -> Stopped, observably', async () => {
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      { name: 'node', children: [{ name: 'store', start: fleet.child('store') }] },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    const seen: LifecyclePhase[] = [supervisor.phase()];
    supervisor.subscribe((event) => {
      if (event.action === 'phase') seen.push(event.phase);
    });
    await supervisor.start();
    await supervisor.stop();
    await supervisor.whenTerminated();
    expect(seen).toEqual(['Constructed', 'Compiled', 'Starting', 'Running', 'Draining', 'Stopped']);
  });

  it('ends in Failed with every compile problem when the spec does not compile', async () => {
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'a', start: async () => {}, dependsOn: ['ghost'] },
          { name: 'a', start: async () => {} },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    const error = await supervisor.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SpecCompileError);
    expect((error as SpecCompileError).problems.map((problem) => problem.code).sort()).toEqual([
      'DUPLICATE_NAME',
      'UNKNOWN_DEPENDENCY',
    ]);
    expect(supervisor.phase()).toBe('Failed');
  });
});

describe('boot with a crash in the middle', () => {
  it('does not start a child whose dependency crashed during the boot, and rolls back', async () => {
    const fleet = new Fleet();
    let crashStoreNow = (): void => {};
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          {
            name: 'index',
            start: async (signal, context) => {
              // The store dies while index is still starting.
              crashStoreNow();
              await settle();
              return fleet.child('index')(signal, context);
            },
          },
          { name: 'api', start: fleet.child('api'), dependsOn: ['store'] },
        ],
      },
      { clock: new ManualClock(), random: new SeededRandom(1) },
    );
    crashStoreNow = () => fleet.crash('store', 'store lost its disk');
    const error = await supervisor.start().catch((caught: unknown) => caught);
    expect((error as BootFailedError).child).toBe('api');
    expect((error as Error).message).toContain("dependency 'store' is restarting");
    expect(fleet.trace).toEqual(['start store#1', 'start index#1', 'stop index#1']);
    expect(supervisor.phase()).toBe('Failed');
  });
});
