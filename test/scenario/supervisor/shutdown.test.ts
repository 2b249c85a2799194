import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import {
  type ChildSpec,
  type DrainHandler,
  MemoryResumeStateStore,
  Supervisor,
  type SupervisorSpec,
} from '../../../src/supervisor/index.js';
import { Fleet, runFor, settle } from './fleet.js';

function transfersChild(fleet: Fleet, drain: DrainHandler, deadlineMs = 500): ChildSpec {
  return {
    name: 'transfers',
    start: fleet.child('transfers', { drain }),
    dependsOn: ['store'],
    resumeState: 'required',
    stopActions: [
      { kind: 'drain', requireResumeState: true, deadlineMs },
      { kind: 'release-name-lease' },
      { kind: 'stop-child' },
    ],
  };
}

describe('shutdown', () => {
  it('stops in reverse start order, running exactly the compiled shutdown plan, and joins the root', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          transfersChild(fleet, async () => {
            fleet.trace.push('drain transfers');
            return { resumeState: { offset: 1 } };
          }),
          { name: 'api', start: fleet.child('api'), dependsOn: ['transfers'] },
        ],
      },
      { clock, random: new SeededRandom(3) },
    );
    await supervisor.start();
    const cursor = fleet.trace.length;
    await supervisor.stop('maintenance');

    expect(fleet.since(cursor)).toEqual([
      'stop api#1',
      'drain transfers',
      'stop transfers#1',
      'stop store#1',
    ]);
    expect(supervisor.phase()).toBe('Stopped');
    const planned = supervisor.plan()?.shutdownEvents ?? [];
    const performed = supervisor
      .events()
      .filter((event) => ['drain', 'release-name-lease', 'stop-child', 'join-root'].includes(event.action))
      .map((event) => ({
        phase: event.phase,
        action: event.action,
        ...(event.child === undefined ? {} : { child: event.child }),
      }));
    expect(performed).toEqual(planned);
    expect(supervisor.names().heldNames()).toEqual([]);
  });

  it('force-stops a child that ignores its abort signal once its shutdown timeout passes', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          {
            name: 'stubborn',
            start: fleet.child('stubborn', { ignoreAbort: true }),
            dependsOn: ['store'],
            shutdownTimeoutMs: 2_000,
          },
        ],
      },
      { clock, random: new SeededRandom(3) },
    );
    await supervisor.start();
    let stopped = false;
    const stopping = supervisor.stop().then(() => {
      stopped = true;
    });
    await settle();
    clock.advance(1_999);
    await settle();
    expect(stopped).toBe(false);
    expect(fleet.trace).not.toContain('stop store#1');

    clock.advance(1);
    await stopping;
    expect(fleet.trace.slice(-2)).toEqual(['stop stubborn#1', 'stop store#1']);
    const forced = supervisor.events().find((event) => event.action === 'force-stop');
    expect(forced?.child).toBe('stubborn');
    expect(forced?.reason).toContain('2000 ms');
    expect(forced?.timeMs).toBe(2_000);
    expect(supervisor.metrics().forceStops).toBe(1);
    expect(supervisor.phase()).toBe('Stopped');
  });

  it('a drain persists resume state before the child stops, and the next start receives it', async () => {
    const store = new MemoryResumeStateStore();
    const spec = (fleet: Fleet): SupervisorSpec => ({
      name: 'node',
      children: [
        { name: 'store', start: fleet.child('store') },
        transfersChild(fleet, async () => {
          fleet.trace.push('drain transfers');
          return { resumeState: { transfer: 'tx-9', offset: 4_096 } };
        }),
      ],
    });
    const firstFleet = new Fleet();
    const first = new Supervisor(spec(firstFleet), {
      clock: new ManualClock(),
      random: new SeededRandom(1),
      resumeStore: store,
    });
    await first.start();
    expect(firstFleet.context('transfers').resumeState).toBeUndefined();
    await first.stop();
    expect(firstFleet.trace.indexOf('drain transfers')).toBeLessThan(
      firstFleet.trace.indexOf('stop transfers#1'),
    );
    expect(first.events().map((event) => event.action)).toContain('resume-state-persisted');

    const secondFleet = new Fleet();
    const second = new Supervisor(spec(secondFleet), {
      clock: new ManualClock(),
      random: new SeededRandom(1),
      resumeStore: store,
    });
    await second.start();
    expect(secondFleet.context('transfers').resumeState).toEqual({ transfer: 'tx-9', offset: 4_096 });
    await second.stop();
  });

  it('resume state survives a dependency-aware restart within one supervisor', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    let drains = 0;
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          {
            name: 'store',
            start: fleet.child('store'),
            restart: { backoff: { initialMs: 10, jitterRatio: 0 } },
          },
          transfersChild(fleet, async () => {
            drains++;
            return { resumeState: { drains } };
          }),
        ],
      },
      { clock, random: new SeededRandom(1) },
    );
    await supervisor.start();
    fleet.crash('store');
    await runFor(clock, 50);
    expect(fleet.contexts.get('transfers')?.map((context) => context.resumeState)).toEqual([
      undefined,
      { drains: 1 },
    ]);
    await supervisor.stop();
  });

  it.each([
    [
      'throws',
      async (): Promise<undefined> => {
        throw new Error('disk full');
      },
      'disk full',
    ],
    ['returns no resume state', async () => ({}), 'no resume state'],
  ] as const)(
    'reports a drain that %s, with the reason, and still stops the child',
    async (_label, drain, reason) => {
      const fleet = new Fleet();
      const supervisor = new Supervisor(
        {
          name: 'node',
          children: [{ name: 'store', start: fleet.child('store') }, transfersChild(fleet, drain)],
        },
        { clock: new ManualClock(), random: new SeededRandom(1) },
      );
      await supervisor.start();
      await supervisor.stop();
      const failed = supervisor.events().find((event) => event.action === 'drain-failed');
      expect(failed?.child).toBe('transfers');
      expect(failed?.reason).toContain(reason);
      expect(fleet.trace).toContain('stop transfers#1');
      expect(supervisor.metrics()).toMatchObject({ drainFailures: 1, resumeStatesPersisted: 0 });
    },
  );

  it('reports a drain that misses its deadline and aborts the drain', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    let drainSignal: AbortSignal | undefined;
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          { name: 'store', start: fleet.child('store') },
          transfersChild(
            fleet,
            (deadline) => {
              drainSignal = deadline;
              return new Promise(() => {});
            },
            500,
          ),
        ],
      },
      { clock, random: new SeededRandom(1) },
    );
    await supervisor.start();
    const stopping = supervisor.stop();
    await settle();
    clock.advance(500);
    await stopping;
    expect(drainSignal?.aborted).toBe(true);
    const failed = supervisor.events().find((event) => event.action === 'drain-failed');
    expect(failed?.reason).toContain('500 ms deadline');
    expect(failed?.timeMs).toBe(500);
    expect(supervisor.phase()).toBe('Stopped');
  });
});
