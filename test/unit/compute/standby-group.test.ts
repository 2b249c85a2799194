import { describe, expect, it } from 'vitest';
import {
  type DaemonEvent,
  DaemonHost,
  DaemonRuntime,
  type DaemonSnapshot,
  memberIdentity,
  StandbyGroup,
  type StandbyGroupConfig,
} from '../../../src/compute/index.js';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';
import { codeOf, eventOf, LedgerDaemon, ledgerOf, ledgerRuntime, range, seedOf } from './fixtures.js';

function spawnGroup(config: Partial<StandbyGroupConfig> = {}, outputsFor?: (id: number) => number) {
  const setup = ledgerRuntime(outputsFor);
  const group = StandbyGroup.spawn(setup.runtime, 'ledger', {
    memberCount: 3,
    groupSeed: seedOf(7),
    ...config,
  });
  const deliver = (...ids: number[]) => {
    for (const id of ids) group.deliver(eventOf(id));
  };
  const activeLedger = () => ledgerOf(setup.runtime, group.activeOrigin());
  return { ...setup, group, deliver, activeLedger };
}

describe('StandbyGroup spawn', () => {
  it('makes member 0 active and the others standbys synced through 0', () => {
    const { group, runtime } = spawnGroup();
    expect(group.activeIndex).toBe(0);
    expect(group.activeOrigin()).toBe(memberIdentity(seedOf(7), 0).originHash);
    expect(group.listMembers().map((member) => [member.role, member.syncedThrough, member.nodeId])).toEqual([
      ['active', 0, 1],
      ['standby', 0, 2],
      ['standby', 0, 3],
    ]);
    expect(group.memberCount).toBe(3);
    expect(group.standbyCount).toBe(2);
    expect(group.term).toBe(0);
    expect(group.health()).toEqual({ status: 'healthy' });
    expect(runtime.registry.size).toBe(3);
    expect(group.kind).toBe('ledger');
  });

  it('rejects fewer than two members and other bad settings, listing every problem', () => {
    const { runtime } = ledgerRuntime();
    try {
      StandbyGroup.spawn(runtime, 'ledger', {
        memberCount: 1,
        groupSeed: new Uint8Array(3),
        placement: [7, 9],
        replayBufferCapacityEvents: 0,
      });
      expect.unreachable();
    } catch (error) {
      expect(isMeshError(error, 'VALIDATION_FAILED')).toBe(true);
      expect((error as { problems: string[] }).problems).toHaveLength(4);
    }
    expect(runtime.registry.size).toBe(0);
  });

  it('rejects an unknown kind and a runtime that is not ready', () => {
    const { runtime } = ledgerRuntime();
    expect(codeOf(() => StandbyGroup.spawn(runtime, 'other', { memberCount: 2, groupSeed: seedOf(1) }))).toBe(
      'DAEMON_KIND_UNKNOWN',
    );
    const early = new DaemonRuntime({ clock: new ManualClock() });
    early.registerKind('ledger', () => new LedgerDaemon());
    expect(codeOf(() => StandbyGroup.spawn(early, 'ledger', { memberCount: 2, groupSeed: seedOf(1) }))).toBe(
      'RUNTIME_WRONG_PHASE',
    );
  });

  it('rolls back members already spawned when a later one cannot be', () => {
    const { runtime } = ledgerRuntime();
    runtime.spawn('ledger', memberIdentity(seedOf(7), 2));
    expect(
      codeOf(() => StandbyGroup.spawn(runtime, 'ledger', { memberCount: 3, groupSeed: seedOf(7) })),
    ).toBe('DAEMON_ORIGIN_TAKEN');
    expect(runtime.registry.size).toBe(1);
  });
});

describe('StandbyGroup delivery and sync', () => {
  it('feeds the replay buffer automatically from runtime deliveries to the active', () => {
    const { group, runtime } = spawnGroup();
    runtime.deliver(group.activeOrigin(), eventOf(1));
    group.deliver(eventOf(2));
    expect(group.bufferedEventCount).toBe(2);
  });

  it('refuses events sent to a standby with GROUP_MEMBER_NOT_ACTIVE', () => {
    const { group, runtime } = spawnGroup();
    const standby = group.listMembers()[1]!.originHash;
    expect(codeOf(() => runtime.deliver(standby, eventOf(1)))).toBe('GROUP_MEMBER_NOT_ACTIVE');
    expect(ledgerOf(runtime, standby).applied).toEqual([]);
  });

  it('restores every standby from the active snapshot and clears the buffer', () => {
    const { group, runtime, deliver } = spawnGroup();
    deliver(1, 2, 3);
    const report = group.syncStandbys();
    expect(report).toMatchObject({
      inboundThrough: 3,
      synced: [1, 2],
      failed: [],
      skipped: [],
      bufferedEvents: 0,
    });
    for (const member of group.listMembers().slice(1)) {
      expect(member.syncedThrough).toBe(3);
      expect(ledgerOf(runtime, member.originHash).applied).toEqual([1, 2, 3]);
    }
    expect(group.bufferedEventCount).toBe(0);
  });

  it('keeps the buffer when a standby fails to restore, and re-spawns that standby empty', () => {
    const { group, runtime, deliver, activeLedger } = spawnGroup();
    deliver(1, 2);
    ledgerOf(runtime, group.listMembers()[2]!.originHash).failNextRestore = true;
    const report = group.syncStandbys();
    expect(report.synced).toEqual([1]);
    expect(report.failed.map((failure) => failure.index)).toEqual([2]);
    expect(group.bufferedEventCount).toBe(2);
    expect(group.syncedThrough(2)).toBe(0);
    expect(ledgerOf(runtime, group.listMembers()[2]!.originHash).applied).toEqual([]);
    // The next full sync clears it.
    deliver(3);
    expect(group.syncStandbys().failed).toEqual([]);
    expect(group.bufferedEventCount).toBe(0);
    expect(activeLedger().applied).toEqual([1, 2, 3]);
  });
});

describe('StandbyGroup promotion', () => {
  it('promotes the standby with the highest synced_through, bumps the term and replays the rest', async () => {
    const { group, runtime, deliver } = spawnGroup({ memberCount: 4 });
    deliver(1, 2);
    group.syncStandbys();
    ledgerOf(runtime, group.listMembers()[1]!.originHash).failNextRestore = true;
    ledgerOf(runtime, group.listMembers()[3]!.originHash).failNextRestore = true;
    deliver(3);
    group.syncStandbys(); // only member 2 reaches 3
    deliver(4, 5);
    const origin = await group.promote();
    expect(origin).toBe(group.listMembers()[2]!.originHash);
    expect(group.activeIndex).toBe(2);
    expect(group.term).toBe(1);
    expect(ledgerOf(runtime, origin).applied).toEqual([1, 2, 3, 4, 5]);
    expect(group.stats.replayedEvents).toBe(2);
    expect(group.memberRole(0)).toBe('standby');
    expect(group.memberRole(2)).toBe('active');
  });

  it('moves the replay observer to the new active', async () => {
    const { group, runtime, deliver } = spawnGroup();
    deliver(1);
    const oldOrigin = group.activeOrigin();
    const newOrigin = await group.promote();
    expect(runtime.registry.observerCount(oldOrigin)).toBe(0);
    expect(runtime.registry.observerCount(newOrigin)).toBe(1);
    const before = group.bufferedEventCount;
    runtime.deliver(newOrigin, eventOf(2));
    expect(group.bufferedEventCount).toBe(before + 1);
    expect(codeOf(() => runtime.deliver(oldOrigin, eventOf(3)))).toBe('GROUP_MEMBER_NOT_ACTIVE');
  });

  it('hands over planned: the old active becomes a standby that has everything', async () => {
    const { group, runtime, deliver, activeLedger } = spawnGroup({ memberCount: 2 });
    deliver(1, 2, 3);
    await group.promote();
    expect(group.syncedThrough(0)).toBe(3);
    deliver(4);
    await group.promote();
    expect(group.activeIndex).toBe(0);
    expect(activeLedger().applied).toEqual([1, 2, 3, 4]);
    expect(group.term).toBe(2);
    expect(runtime.registry.size).toBe(2);
  });

  it('replaces an active whose daemon crashed, losing none of the accepted events', async () => {
    const { group, deliver, runtime, activeLedger } = spawnGroup();
    deliver(1, 2);
    group.syncStandbys();
    deliver(3);
    const crashedOrigin = group.activeOrigin();
    activeLedger().throwOnId = 4;
    expect(codeOf(() => group.deliver(eventOf(4)))).toBe('DAEMON_CRASHED');
    expect(group.health()).toEqual({ status: 'dead' });
    expect(codeOf(() => group.deliver(eventOf(5)))).toBe('GROUP_ACTIVE_UNAVAILABLE');
    await group.promote();
    expect(runtime.has(crashedOrigin)).toBe(false);
    expect(activeLedger().applied).toEqual([1, 2, 3]);
    expect(group.health()).toEqual({ status: 'degraded', healthy: 2, total: 3 });
  });

  it('fails with GROUP_NO_STANDBY when no healthy standby can be brought up to date', async () => {
    const { group, deliver } = spawnGroup({ memberCount: 2 });
    deliver(1);
    await group.onNodeFailure(2);
    await expect(group.promote()).rejects.toMatchObject({ code: 'GROUP_NO_STANDBY' });
    expect(group.term).toBe(0);
  });
});

describe('StandbyGroup node failure and recovery', () => {
  it('auto-promotes when the active node fails and loses nothing', async () => {
    const { group, deliver, activeLedger, runtime } = spawnGroup();
    deliver(1, 2);
    group.syncStandbys();
    deliver(3, 4);
    const failedOrigin = group.activeOrigin();
    const promoted = await group.onNodeFailure(1);
    expect(promoted).toBe(group.activeOrigin());
    expect(runtime.has(failedOrigin)).toBe(false);
    expect(activeLedger().applied).toEqual([1, 2, 3, 4]);
    expect(group.health()).toEqual({ status: 'degraded', healthy: 2, total: 3 });
  });

  it('only marks a standby unhealthy when a standby node fails', async () => {
    const { group } = spawnGroup();
    expect(await group.onNodeFailure(3)).toBeUndefined();
    expect(group.listMembers()[2]!.healthy).toBe(false);
    expect(group.activeIndex).toBe(0);
    expect(group.health()).toEqual({ status: 'degraded', healthy: 2, total: 3 });
    expect(await group.onNodeFailure(40)).toBeUndefined();
  });

  it('brings a recovered member back as an empty standby with the same origin', async () => {
    const { group, deliver, runtime } = spawnGroup();
    const origin = group.listMembers()[2]!.originHash;
    deliver(1);
    group.syncStandbys();
    await group.onNodeFailure(3);
    group.onNodeRecovery(3);
    const member = group.listMembers()[2]!;
    expect(member).toMatchObject({ originHash: origin, role: 'standby', healthy: true, syncedThrough: 0 });
    expect(ledgerOf(runtime, origin).applied).toEqual([]);
    expect(group.health()).toEqual({ status: 'healthy' });
    group.syncStandbys();
    expect(ledgerOf(runtime, origin).applied).toEqual([1]);
  });

  it('is dead when the active failed and nothing could be promoted', async () => {
    const { group, deliver } = spawnGroup({ memberCount: 2 });
    deliver(1);
    group.syncStandbys();
    deliver(2);
    await group.onNodeFailure(2);
    await expect(group.onNodeFailure(1)).rejects.toMatchObject({ code: 'GROUP_NO_STANDBY' });
    expect(group.health()).toEqual({ status: 'dead' });
    expect(codeOf(() => group.deliver(eventOf(3)))).toBe('GROUP_ACTIVE_UNAVAILABLE');
    expect(codeOf(() => group.syncStandbys())).toBe('GROUP_ACTIVE_UNAVAILABLE');
    expect(codeOf(() => group.activeHost())).toBe('GROUP_ACTIVE_UNAVAILABLE');
  });

  it('continues a re-spawned member chain instead of restarting it', async () => {
    const { group, deliver, runtime } = spawnGroup({ memberCount: 2 });
    deliver(1, 2);
    const firstOrigin = group.activeOrigin();
    const sequenceBefore = runtime.host(firstOrigin).sequence;
    await group.promote();
    await group.onNodeFailure(1);
    group.onNodeRecovery(1);
    expect(runtime.host(firstOrigin).sequence).toBe(sequenceBefore);
  });
});

describe('StandbyGroup replay buffer bound', () => {
  it('forces a sync when the buffer is full and keeps going', () => {
    const { group, deliver, activeLedger } = spawnGroup({ replayBufferCapacityEvents: 4 });
    deliver(...range(1, 10));
    expect(group.bufferedEventCount).toBeLessThanOrEqual(4);
    expect(group.stats.forcedSyncs).toBeGreaterThan(0);
    expect(activeLedger().applied).toEqual(range(1, 10));
  });

  it('reports backpressure under the reject policy and never applies the refused event', () => {
    const { group, deliver, activeLedger } = spawnGroup({
      replayBufferCapacityEvents: 3,
      onReplayBufferFull: 'reject',
    });
    deliver(1, 2, 3);
    expect(codeOf(() => group.deliver(eventOf(4)))).toBe('REPLAY_BUFFER_FULL');
    expect(codeOf(() => group.deliver(eventOf(4)))).toBe('REPLAY_BUFFER_FULL');
    expect(activeLedger().applied).toEqual([1, 2, 3]);
    expect(group.stats.refusedForBackpressure).toBe(2);
    expect(activeLedger().controls).toEqual([{ type: 'backpressure-on' }]);
    group.syncStandbys();
    expect(activeLedger().controls).toEqual([{ type: 'backpressure-on' }, { type: 'backpressure-off' }]);
    deliver(4);
    expect(activeLedger().applied).toEqual([1, 2, 3, 4]);
  });

  it('reports backpressure when a forced sync cannot empty the buffer', () => {
    const { group, deliver, runtime } = spawnGroup({ memberCount: 2, replayBufferCapacityEvents: 2 });
    deliver(1, 2);
    ledgerOf(runtime, group.listMembers()[1]!.originHash).failNextRestore = true;
    expect(codeOf(() => group.deliver(eventOf(3)))).toBe('REPLAY_BUFFER_FULL');
    expect(group.bufferedEventCount).toBe(2);
  });

  it('refuses deliveries and syncs while a promotion waits, and every call after close', async () => {
    const { group, runtime } = spawnGroup();
    // Hold the promotion open by making the active busy with an async delivery.
    const host = runtime.host(group.activeOrigin());
    let open: () => void = () => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    const original = host.daemon.process.bind(host.daemon);
    (host.daemon as { process: unknown }).process = async (event: DaemonEvent) => {
      await opened;
      return original(event);
    };
    const first = group.deliver(eventOf(1));
    const promotion = group.promote();
    expect(codeOf(() => group.deliver(eventOf(2)))).toBe('GROUP_BUSY');
    expect(codeOf(() => group.syncStandbys())).toBe('GROUP_BUSY');
    await expect(group.promote()).rejects.toMatchObject({ code: 'GROUP_BUSY' });
    open();
    await first;
    await promotion;
    expect(ledgerOf(runtime, group.activeOrigin()).applied).toEqual([1]);
    group.close();
    expect(runtime.registry.size).toBe(0);
    expect(codeOf(() => group.syncStandbys())).toBe('GROUP_CLOSED');
    await expect(group.promote()).rejects.toMatchObject({ code: 'GROUP_CLOSED' });
  });
});

/**
 * The reference rule: replay the buffered events whose sequence is above the standby's
 * `synced_through`, where `synced_through` is the snapshot's position in the active's
 * OUTPUT chain. Inbound positions and output sequences belong to different chains.
 */
function seedReplaySelection(buffered: { event: DaemonEvent; position: number }[], snapshot: DaemonSnapshot) {
  return buffered.filter((entry) => entry.position > snapshot.throughSequence).map((entry) => entry.event);
}

function ourReplaySelection(buffered: { event: DaemonEvent; position: number }[], snapshot: DaemonSnapshot) {
  return buffered.filter((entry) => entry.position > snapshot.inboundThrough).map((entry) => entry.event);
}

describe('the corrected replay rule', () => {
  function scenario(outputsPerEvent: number) {
    const clock = new ManualClock();
    const activeDaemon = new LedgerDaemon(() => outputsPerEvent);
    const active = new DaemonHost(memberIdentity(seedOf(8), 0), activeDaemon, clock);
    const buffered: { event: DaemonEvent; position: number }[] = [];
    const feed = (id: number) => {
      const event = eventOf(id);
      buffered.push({ event, position: active.deliver(event) as number });
    };
    for (const id of range(1, 5)) feed(id);
    const snapshot = active.snapshot();
    for (const id of range(6, 8)) feed(id);
    const standbyFrom = (select: typeof seedReplaySelection) => {
      const daemon = new LedgerDaemon(() => outputsPerEvent);
      const standby = new DaemonHost(memberIdentity(seedOf(8), 1), daemon, clock);
      standby.restore(snapshot);
      for (const event of select(buffered, snapshot)) standby.deliver(event);
      return daemon.applied;
    };
    return {
      expected: activeDaemon.applied,
      seed: standbyFrom(seedReplaySelection),
      ours: standbyFrom(ourReplaySelection),
    };
  }

  it('loses events under the reference rule when a daemon emits two outputs per event', () => {
    const { expected, seed, ours } = scenario(2);
    expect(expected).toEqual(range(1, 8));
    expect(seed).toEqual(range(1, 5)); // events 6..8 never replayed
    expect(ours).toEqual(expected);
  });

  it('applies events twice under the reference rule when a daemon emits no outputs', () => {
    const { expected, seed, ours } = scenario(0);
    expect(seed).toEqual([...range(1, 5), ...range(1, 8)]);
    expect(ours).toEqual(expected);
  });

  it('is what the group does: promotion after sync with two outputs per event loses nothing', async () => {
    const { group, deliver, activeLedger, runtime } = spawnGroup({}, () => 2);
    deliver(...range(1, 5));
    group.syncStandbys();
    deliver(...range(6, 8));
    expect(runtime.host(group.activeOrigin()).sequence).toBe(16);
    await group.onNodeFailure(1);
    expect(activeLedger().applied).toEqual(range(1, 8));
  });
});
