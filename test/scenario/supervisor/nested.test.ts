import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import { type EscalationError, type RestartPolicyInput, Supervisor } from '../../../src/supervisor/index.js';
import { Fleet, runFor, settle } from './fleet.js';

const ONE_RESTART: RestartPolicyInput = {
  maxRestarts: 1,
  periodMs: 60_000,
  backoff: { initialMs: 10, jitterRatio: 0 },
};

async function bootTree() {
  const clock = new ManualClock();
  const fleet = new Fleet();
  const nodeStops: EscalationError[] = [];
  const supervisor = new Supervisor(
    {
      name: 'node',
      children: [
        { name: 'store', start: fleet.child('store') },
        {
          name: 'storage',
          dependsOn: ['store'],
          restart: ONE_RESTART,
          supervisor: {
            name: 'storage',
            children: [
              { name: 'wal', start: fleet.child('wal'), restart: ONE_RESTART },
              { name: 'compactor', start: fleet.child('compactor'), dependsOn: ['wal'] },
            ],
          },
        },
        { name: 'api', start: fleet.child('api'), dependsOn: ['storage'] },
      ],
    },
    { clock, random: new SeededRandom(5), onNodeStop: (error) => nodeStops.push(error) },
  );
  await supervisor.start();
  return { clock, fleet, supervisor, nodeStops };
}

/** Crashes the nested `wal` until its own budget is spent, so the nested supervisor fails. */
async function walStorm(setup: Awaited<ReturnType<typeof bootTree>>, label: string): Promise<void> {
  setup.fleet.crash('wal', `${label}: checksum mismatch`);
  await runFor(setup.clock, 50);
  setup.fleet.crash('wal', `${label}: checksum mismatch again`);
  await settle();
}

describe('nested supervisors', () => {
  it('boots the nested tree inside the parent start order', async () => {
    const setup = await bootTree();
    expect(setup.fleet.trace).toEqual(['start store#1', 'start wal#1', 'start compactor#1', 'start api#1']);
    const supervisors = new Set(setup.supervisor.events().map((event) => event.supervisor));
    expect(supervisors).toEqual(new Set(['node', 'node/storage']));
  });

  it('a nested supervisor that gives up escalates to its parent, which restarts it by its own policy', async () => {
    const setup = await bootTree();
    await walStorm(setup, 'first');
    const cursor = setup.fleet.trace.length;
    await runFor(setup.clock, 50);

    expect(setup.supervisor.phase()).toBe('Running');
    expect(setup.fleet.since(cursor)).toEqual(['start wal#1', 'start compactor#1', 'start api#2']);
    const crash = setup.supervisor
      .events()
      .find((event) => event.supervisor === 'node' && event.action === 'child-crashed');
    expect(crash?.child).toBe('storage');
    expect(crash?.reason).toContain("supervisor 'node/storage' gave up: child 'wal'");
    expect(setup.nodeStops).toEqual([]);
  });

  it('when the parent budget is spent too, the escalation reaches the root and stops the node', async () => {
    const setup = await bootTree();
    await walStorm(setup, 'first');
    await runFor(setup.clock, 50);
    await walStorm(setup, 'second');
    await runFor(setup.clock, 50);

    expect(setup.supervisor.phase()).toBe('Failed');
    expect(setup.nodeStops).toHaveLength(1);
    expect(setup.nodeStops[0]?.child).toBe('storage');
    expect(setup.nodeStops[0]?.message).toContain('second: checksum mismatch again');
    expect(setup.fleet.trace.slice(-2)).toEqual(['stop api#2', 'stop store#1']);
    expect(setup.supervisor.metrics().escalations).toBe(3);
  });

  it('stopping the parent stops the nested tree in reverse order', async () => {
    const setup = await bootTree();
    const cursor = setup.fleet.trace.length;
    await setup.supervisor.stop();
    expect(setup.fleet.since(cursor)).toEqual([
      'stop api#1',
      'stop compactor#1',
      'stop wal#1',
      'stop store#1',
    ]);
    expect(setup.supervisor.phase()).toBe('Stopped');
  });
});
