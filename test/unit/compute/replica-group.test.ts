import { describe, expect, it } from 'vitest';
import { memberIdentity, ReplicaGroup, type ReplicaGroupConfig } from '../../../src/compute/index.js';
import { SeededRandom } from '../../../src/lib/index.js';
import { codeOf, eventOf, ledgerOf, ledgerRuntime, seedOf } from './fixtures.js';

function spawnReplicas(config: Partial<ReplicaGroupConfig> = {}) {
  const setup = ledgerRuntime();
  const group = ReplicaGroup.spawn(setup.runtime, 'ledger', {
    replicaCount: 3,
    groupSeed: seedOf(30),
    random: new SeededRandom(1),
    ...config,
  });
  return { ...setup, group };
}

describe('ReplicaGroup', () => {
  it('spawns replicas with identities derived from the seed and index', () => {
    const { group } = spawnReplicas();
    expect(group.listReplicas().map((replica) => replica.originHash)).toEqual(
      [0, 1, 2].map((index) => memberIdentity(seedOf(30), index).originHash),
    );
  });

  it('routes round-robin over every replica in turn', () => {
    const { group } = spawnReplicas();
    const origins = group.listReplicas().map((replica) => replica.originHash);
    expect([0, 1, 2, 3, 4, 5].map(() => group.route())).toEqual([...origins, ...origins]);
  });

  it('routes the same key to the same replica and moves few keys when scaling', () => {
    const { group } = spawnReplicas({ strategy: 'consistent-hash' });
    const keys = Array.from({ length: 200 }, (_, index) => `key-${index}`);
    const before = keys.map((key) => group.route(key));
    expect(keys.map((key) => group.route(key))).toEqual(before);
    expect(new Set(before).size).toBe(3);
    group.scaleTo(4);
    const after = keys.map((key) => group.route(key));
    const added = group.listReplicas()[3]!.originHash;
    keys.forEach((_, index) => {
      // A key either stays or moves to the new replica; never between old ones.
      if (after[index] !== before[index]) expect(after[index]).toBe(added);
    });
    const moved = after.filter((origin, index) => origin !== before[index]).length;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(keys.length / 2);
  });

  it('delivers by the event key under consistent hashing', () => {
    const { group, runtime } = spawnReplicas({ strategy: 'consistent-hash' });
    group.deliver(eventOf(1, 'alpha'));
    group.deliver(eventOf(2, 'alpha'));
    expect(ledgerOf(runtime, group.route('alpha')).applied).toEqual([1, 2]);
  });

  it('sends power-of-two choices to the less saturated of the two draws', () => {
    const { group, runtime } = spawnReplicas({ replicaCount: 2, strategy: 'power-of-two' });
    const [first, second] = group.listReplicas().map((replica) => replica.originHash);
    ledgerOf(runtime, first!).load = 0.9;
    ledgerOf(runtime, second!).load = 0.1;
    for (let round = 0; round < 20; round++) expect(group.route()).toBe(second);
    ledgerOf(runtime, first!).load = 0;
    for (let round = 0; round < 20; round++) expect(group.route()).toBe(first);
  });

  it('scales down from the highest index, draining before removal', () => {
    const { group, runtime } = spawnReplicas();
    const removed = group.listReplicas()[2]!.originHash;
    const daemon = ledgerOf(runtime, removed);
    group.scaleTo(2);
    expect(group.replicaCount).toBe(2);
    expect(runtime.has(removed)).toBe(false);
    expect(daemon.controls.map((signal) => signal.type)).toEqual(['drain-start', 'drain-finish']);
    group.scaleTo(0);
    expect(codeOf(() => group.route())).toBe('REPLICA_UNAVAILABLE');
    expect(codeOf(() => group.scaleTo(-1))).toBe('VALIDATION_FAILED');
  });

  it('re-spawns a crashed replica under the same identity, continuing its chain', () => {
    const { group, runtime } = spawnReplicas({ replicaCount: 1 });
    const origin = group.route();
    runtime.deliver(origin, eventOf(1));
    const sequence = runtime.host(origin).sequence;
    ledgerOf(runtime, origin).throwOnId = 2;
    expect(codeOf(() => runtime.deliver(origin, eventOf(2)))).toBe('DAEMON_CRASHED');
    expect(group.listReplicas()[0]!.respawns).toBe(1);
    expect(runtime.host(origin).crashed).toBe(false);
    expect(runtime.host(origin).sequence).toBe(sequence);
    runtime.deliver(origin, eventOf(3));
    expect(ledgerOf(runtime, origin).applied).toEqual([3]);
  });

  it('re-spawns the replicas of a failed node and on request', () => {
    const { group, runtime } = spawnReplicas({ placement: (index) => (index < 2 ? 7 : 9) });
    expect(group.onNodeFailure(7)).toEqual([0, 1]);
    expect(group.replaceReplica(2)).toBe(group.listReplicas()[2]!.originHash);
    expect(group.listReplicas().map((replica) => replica.respawns)).toEqual([1, 1, 1]);
    expect(runtime.registry.size).toBe(3);
    expect(codeOf(() => group.replaceReplica(9))).toBe('REPLICA_UNAVAILABLE');
  });

  it('rejects bad configurations and refuses calls after close', () => {
    const { runtime } = ledgerRuntime();
    expect(
      codeOf(() =>
        ReplicaGroup.spawn(runtime, 'ledger', {
          replicaCount: 0,
          groupSeed: seedOf(1),
          random: new SeededRandom(1),
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    const { group } = spawnReplicas();
    group.close();
    expect(codeOf(() => group.route())).toBe('GROUP_CLOSED');
  });
});
