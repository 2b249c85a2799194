import { describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom } from '../../../src/lib/index.js';
import { type CollisionPolicy, NameRegistry, Supervisor } from '../../../src/supervisor/index.js';
import { Fleet, runFor, settle } from './fleet.js';

function resolverTree(
  name: string,
  fleet: Fleet,
  registry: NameRegistry,
  clock: ManualClock,
  onCollision: CollisionPolicy,
) {
  return new Supervisor(
    {
      name,
      children: [
        {
          name: 'resolver',
          start: fleet.child('resolver', { publish: `${name}:5353` }),
          lease: { name: 'dns', onCollision },
          startTimeoutMs: 1_000,
        },
      ],
    },
    { clock, random: new SeededRandom(1), registry },
  );
}

describe('name leases', () => {
  it('holds a name while the child lives, releases it on crash and takes it again on restart', async () => {
    const clock = new ManualClock();
    const fleet = new Fleet();
    const supervisor = new Supervisor(
      {
        name: 'node',
        children: [
          {
            name: 'resolver',
            start: fleet.child('resolver', { publish: '10.0.0.1:53' }),
            lease: { name: 'dns' },
            restart: { backoff: { initialMs: 10, jitterRatio: 0 } },
          },
          { name: 'client', start: fleet.child('client'), dependsOn: ['resolver'] },
        ],
      },
      { clock, random: new SeededRandom(1) },
    );
    await supervisor.start();
    expect(fleet.context('client').names.lookup('dns')).toBe('10.0.0.1:53');
    expect(supervisor.names().holderOf('dns')).toBe('node/resolver');

    fleet.crash('resolver');
    await settle();
    expect(supervisor.names().holderOf('dns')).toBeUndefined();
    await runFor(clock, 20);
    expect(supervisor.names().holderOf('dns')).toBe('node/resolver');
    await supervisor.stop();
    expect(supervisor.names().heldNames()).toEqual([]);
  });

  it('fail: a second holder is refused and its boot fails naming the holder', async () => {
    const clock = new ManualClock();
    const registry = new NameRegistry();
    const first = resolverTree('a', new Fleet(), registry, clock, 'fail');
    await first.start();
    const error = await resolverTree('b', new Fleet(), registry, clock, 'fail')
      .start()
      .catch((caught: unknown) => caught);
    expect((error as Error).message).toContain("name 'dns' is held by 'a/resolver'");
    expect(registry.holderOf('dns')).toBe('a/resolver');
  });

  it('replace: the newcomer takes the name and the old holder is stopped without a restart', async () => {
    const clock = new ManualClock();
    const registry = new NameRegistry();
    const oldFleet = new Fleet();
    const first = resolverTree('a', oldFleet, registry, clock, 'fail');
    await first.start();
    const second = resolverTree('b', new Fleet(), registry, clock, 'replace');
    await second.start();
    await settle();
    expect(registry.holderOf('dns')).toBe('b/resolver');
    expect(registry.lookup('dns')).toBe('b:5353');
    expect(oldFleet.trace).toEqual(['start resolver#1', 'stop resolver#1']);
    expect(first.children()[0]?.status).toBe('stopped');
    expect(first.events().find((event) => event.action === 'lease-revoked')?.reason).toContain(
      "taken over by 'b/resolver'",
    );
    await runFor(clock, 1_000, 100);
    expect(oldFleet.trace).toHaveLength(2);
  });

  it('wait: the newcomer starts once the holder releases the name', async () => {
    const clock = new ManualClock();
    const registry = new NameRegistry();
    const first = resolverTree('a', new Fleet(), registry, clock, 'fail');
    await first.start();
    const waitingFleet = new Fleet();
    const second = resolverTree('b', waitingFleet, registry, clock, 'wait');
    const booting = second.start();
    await settle();
    expect(waitingFleet.trace).toEqual([]);
    expect(registry.waiterCount('dns')).toBe(1);
    await first.stop();
    await booting;
    expect(waitingFleet.trace).toEqual(['start resolver#1']);
    expect(registry.holderOf('dns')).toBe('b/resolver');
  });

  it('wait: gives up at the start timeout when the name is never released', async () => {
    const clock = new ManualClock();
    const registry = new NameRegistry();
    await resolverTree('a', new Fleet(), registry, clock, 'fail').start();
    const second = resolverTree('b', new Fleet(), registry, clock, 'wait');
    const outcome = second.start().catch((error: unknown) => (error as Error).message);
    await settle();
    clock.advance(1_000);
    expect(await outcome).toContain('not ready within 1000 ms');
    expect(registry.waiterCount('dns')).toBe(0);
    expect(second.phase()).toBe('Failed');
  });
});
