import { describe, expect, it } from 'vitest';
import {
  ChainValidator,
  type DaemonEvent,
  DaemonHost,
  type DaemonSnapshot,
  genesisLink,
  HEALTHY,
  hashLink,
  type MeshDaemon,
  memberIdentity,
  StatelessDaemon,
  validateChain,
} from '../../../src/compute/index.js';
import { isMeshError, ManualClock } from '../../../src/lib/index.js';
import { codeOf, eventOf, LedgerDaemon, seedOf } from './fixtures.js';

const CONFIG = { snapshotEveryEvents: 0, outputLogCapacityEntries: 64, maxQueuedDeliveries: 4 };

function hostWith(daemon: MeshDaemon, config = CONFIG, clock = new ManualClock(), index = 0): DaemonHost {
  return new DaemonHost(memberIdentity(seedOf(1), index), daemon, clock, config);
}

class Echo extends StatelessDaemon {
  readonly name = 'echo';
  process(event: DaemonEvent): readonly Uint8Array[] {
    return [event.payload];
  }
}

/** Answers asynchronously; `release()` resolves the oldest pending call. */
class SlowDaemon implements MeshDaemon {
  readonly name = 'slow';
  applied: number[] = [];
  private pending: (() => void)[] = [];
  failNext = false;
  process(event: DaemonEvent): Promise<readonly Uint8Array[]> {
    return new Promise((resolve, reject) => {
      this.pending.push(() => {
        if (this.failNext) {
          reject(new Error('async failure'));
          return;
        }
        this.applied.push(event.payload[3]!);
        resolve([event.payload]);
      });
    });
  }
  release(): void {
    this.pending.shift()?.();
  }
  health() {
    return HEALTHY;
  }
  saturation() {
    return 0;
  }
  onControl() {}
}

describe('DaemonHost', () => {
  it('turns each output into the next link of its own valid chain', () => {
    const host = hostWith(new LedgerDaemon((id) => id % 3));
    for (let id = 1; id <= 6; id++) expect(host.deliver(eventOf(id))).toBe(id);
    const entries = host.outputLog();
    expect(entries.map((entry) => entry.link.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries.map((entry) => entry.link.horizon)).toEqual([1, 2, 2, 4, 5, 5]);
    expect(host.sequence).toBe(6);
    validateChain(host.originHash, [
      { link: genesisLink(host.originHash), payload: new Uint8Array(0) },
      ...entries,
    ]);
  });

  it('keeps only the newest outputs in a bounded log while the chain head stays exact', () => {
    const host = hostWith(new LedgerDaemon(() => 1), { ...CONFIG, outputLogCapacityEntries: 3 });
    for (let id = 1; id <= 10; id++) host.deliver(eventOf(id));
    const entries = host.outputLog();
    expect(entries.map((entry) => entry.link.sequence)).toEqual([8, 9, 10]);
    const validator = ChainValidator.after(entries[0]!.link, entries[0]!.payload);
    validator.accept(entries[1]!.link, entries[1]!.payload);
    validator.accept(entries[2]!.link, entries[2]!.payload);
    // The head hash is exactly what the next link carries as its parent.
    const last = entries[2]!;
    expect(host.chainHead).toBe(hashLink(last.link, last.payload));
    host.deliver(eventOf(11));
    expect(host.outputLog().at(-1)!.link.parentHash).toBe(hashLink(last.link, last.payload));
  });

  it('snapshots through sequence, chain head, state and the injected clock time', () => {
    const clock = new ManualClock(0, 5_000);
    const host = hostWith(new LedgerDaemon(() => 2), CONFIG, clock);
    host.deliver(eventOf(7));
    clock.advance(250);
    const snapshot = host.snapshot();
    expect(snapshot).toMatchObject({ originHash: host.originHash, throughSequence: 2, inboundThrough: 1 });
    expect(snapshot.chainHead).toBe(host.chainHead);
    expect(snapshot.createdAtMs).toBe(5_250);
    expect(snapshot.state).toEqual(Uint8Array.of(0, 0, 0, 7));
  });

  it('takes a snapshot automatically every N events when configured', () => {
    const host = hostWith(new LedgerDaemon(), { ...CONFIG, snapshotEveryEvents: 3 });
    for (let id = 1; id <= 2; id++) host.deliver(eventOf(id));
    expect(host.latestSnapshot).toBeUndefined();
    for (let id = 3; id <= 7; id++) host.deliver(eventOf(id));
    expect(host.latestSnapshot?.inboundThrough).toBe(6);
  });

  it('takes automatic snapshots between asynchronous deliveries too', async () => {
    const daemon = new SlowDaemon();
    const host = hostWith(daemon, { ...CONFIG, snapshotEveryEvents: 2 });
    const results = [1, 2, 3].map((id) => host.deliver(eventOf(id)));
    for (let round = 0; round < 3; round++) {
      daemon.release();
      await results[round];
    }
    expect(host.latestSnapshot?.inboundThrough).toBe(2);
    expect(host.crashed).toBe(false);
  });

  it('restores a snapshot of the same origin including its chain head', () => {
    const daemon = new LedgerDaemon();
    const host = hostWith(daemon);
    host.deliver(eventOf(1));
    const snapshot = host.snapshot();
    host.deliver(eventOf(2));
    host.restore(snapshot);
    expect(daemon.applied).toEqual([1]);
    expect(host.sequence).toBe(1);
    expect(host.chainHead).toBe(snapshot.chainHead);
    expect(host.inboundPosition).toBe(1);
  });

  it('restores another member snapshot without touching its own chain', () => {
    const source = hostWith(new LedgerDaemon(), CONFIG, new ManualClock(), 0);
    for (let id = 1; id <= 3; id++) source.deliver(eventOf(id));
    const targetDaemon = new LedgerDaemon();
    const target = hostWith(targetDaemon, CONFIG, new ManualClock(), 1);
    const ownHead = target.chainHead;
    target.restore(source.snapshot());
    expect(targetDaemon.applied).toEqual([1, 2, 3]);
    expect(target.inboundPosition).toBe(3);
    expect(target.sequence).toBe(0);
    expect(target.chainHead).toBe(ownHead);
  });

  it('rejects non-empty state for a stateless daemon with DAEMON_STATELESS_STATE', () => {
    const host = hostWith(new Echo());
    const snapshot: DaemonSnapshot = { ...host.snapshot(), state: Uint8Array.of(1) };
    expect(codeOf(() => host.restore(snapshot))).toBe('DAEMON_STATELESS_STATE');
    expect(() => host.restore(host.snapshot())).not.toThrow();
    const bare: MeshDaemon = {
      name: 'bare',
      process: () => [],
      health: () => HEALTHY,
      saturation: () => 0,
      onControl: () => {},
    };
    const bareHost = hostWith(bare);
    expect(bareHost.snapshot().state).toHaveLength(0);
    expect(codeOf(() => bareHost.restore(snapshot))).toBe('DAEMON_STATELESS_STATE');
  });

  it('serializes asynchronous deliveries in order and bounds the queue', async () => {
    const daemon = new SlowDaemon();
    const host = hostWith(daemon);
    const results = [1, 2, 3].map((id) => host.deliver(eventOf(id)));
    expect(host.pendingDeliveries).toBe(3);
    expect(codeOf(() => host.snapshot())).toBe('DAEMON_BUSY');
    expect(codeOf(() => host.restore({} as DaemonSnapshot))).toBe('DAEMON_BUSY');
    host.deliver(eventOf(4));
    host.deliver(eventOf(5));
    expect(codeOf(() => host.deliver(eventOf(6)))).toBe('DAEMON_QUEUE_FULL');
    const idle = host.whenIdle();
    for (let round = 0; round < 5; round++) {
      daemon.release();
      await Promise.resolve();
      await Promise.resolve();
      await Promise.resolve();
    }
    expect(await Promise.all(results)).toEqual([1, 2, 3]);
    await idle;
    expect(daemon.applied).toEqual([1, 2, 3, 4, 5]);
    expect(host.sequence).toBe(5);
  });

  it('marks itself crashed when process throws or rejects and refuses further events', async () => {
    const daemon = new LedgerDaemon();
    daemon.throwOnId = 2;
    const host = hostWith(daemon);
    host.deliver(eventOf(1));
    expect(codeOf(() => host.deliver(eventOf(2)))).toBe('DAEMON_CRASHED');
    expect(host.crashed).toBe(true);
    expect(codeOf(() => host.deliver(eventOf(3)))).toBe('DAEMON_CRASHED');

    const slow = new SlowDaemon();
    const asyncHost = hostWith(slow);
    slow.failNext = true;
    const failing = asyncHost.deliver(eventOf(1));
    const queued = asyncHost.deliver(eventOf(2));
    slow.release();
    await expect(failing).rejects.toMatchObject({ code: 'DAEMON_CRASHED' });
    await expect(queued).rejects.toMatchObject({ code: 'DAEMON_CRASHED' });
    expect(asyncHost.crashed).toBe(true);
  });

  it('rejects an invalid configuration listing every problem', () => {
    try {
      hostWith(new LedgerDaemon(), {
        snapshotEveryEvents: -1,
        outputLogCapacityEntries: 0,
        maxQueuedDeliveries: 1.5,
      });
      expect.unreachable();
    } catch (error) {
      expect(isMeshError(error, 'VALIDATION_FAILED')).toBe(true);
      expect((error as { problems: string[] }).problems).toHaveLength(3);
    }
  });
});
