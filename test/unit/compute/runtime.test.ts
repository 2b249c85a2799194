import { describe, expect, it } from 'vitest';
import { DaemonRuntime, type LifecycleEvent, memberIdentity } from '../../../src/compute/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import {
  asyncLedgerRuntime,
  codeOf,
  eventOf,
  LedgerDaemon,
  ledgerOf,
  ledgerRuntime,
  ManualDelays,
  seedOf,
} from './fixtures.js';

const identity = (index: number) => memberIdentity(seedOf(5), index);

describe('DaemonRuntime lifecycle gate', () => {
  it('allows registering kinds only before start and spawning or delivering only after', async () => {
    const runtime = new DaemonRuntime({ clock: new ManualClock() });
    expect(runtime.phase).toBe('registering');
    expect(codeOf(() => runtime.spawn('ledger', identity(0)))).toBe('RUNTIME_WRONG_PHASE');
    expect(codeOf(() => runtime.deliver(1n, eventOf(1)))).toBe('RUNTIME_WRONG_PHASE');
    runtime.registerKind('ledger', () => new LedgerDaemon());
    expect(codeOf(() => runtime.registerKind('ledger', () => new LedgerDaemon()))).toBe(
      'DAEMON_KIND_DUPLICATE',
    );
    runtime.start();
    expect(runtime.phase).toBe('ready');
    expect(codeOf(() => runtime.start())).toBe('RUNTIME_WRONG_PHASE');
    expect(codeOf(() => runtime.registerKind('other', () => new LedgerDaemon()))).toBe('RUNTIME_WRONG_PHASE');
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    const stopping = runtime.shutdown(100);
    expect(runtime.phase).toBe('shutting-down');
    expect(codeOf(() => runtime.deliver(origin, eventOf(1)))).toBe('RUNTIME_WRONG_PHASE');
    expect(codeOf(() => runtime.spawn('ledger', identity(1)))).toBe('RUNTIME_WRONG_PHASE');
    await stopping;
    expect(runtime.phase).toBe('stopped');
    expect(ledgerOf(runtime, origin).controls).toEqual([{ type: 'shutdown', graceMs: 100 }]);
    await expect(runtime.shutdown(1)).rejects.toMatchObject({ code: 'RUNTIME_WRONG_PHASE' });
  });

  it('rejects unknown kinds, taken origins and unknown origins with typed errors', () => {
    const { runtime } = ledgerRuntime();
    expect(codeOf(() => runtime.spawn('nope', identity(0)))).toBe('DAEMON_KIND_UNKNOWN');
    runtime.spawn('ledger', identity(0));
    expect(codeOf(() => runtime.spawn('ledger', identity(0)))).toBe('DAEMON_ORIGIN_TAKEN');
    expect(codeOf(() => runtime.deliver(42n, eventOf(1)))).toBe('DAEMON_NOT_FOUND');
    expect(codeOf(() => runtime.unregister(42n))).toBe('DAEMON_NOT_FOUND');
  });
});

describe('DaemonRuntime delivery', () => {
  it('delivers by origin and calls observers after the event was applied', () => {
    const { runtime } = ledgerRuntime();
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    const seen: [number, number][] = [];
    const handle = runtime.observe(origin, (from, event, position) => {
      expect(from).toBe(origin);
      expect(ledgerOf(runtime, origin).applied.at(-1)).toBe(event.payload[3]);
      seen.push([event.payload[3]!, position]);
    });
    runtime.deliver(origin, eventOf(4));
    runtime.deliver(origin, eventOf(5));
    handle.dispose();
    handle.dispose();
    runtime.deliver(origin, eventOf(6));
    expect(seen).toEqual([
      [4, 1],
      [5, 2],
    ]);
    expect(runtime.registry.observerCount(origin)).toBe(0);
    expect(runtime.stats.delivered).toBe(3);
  });

  it('lets a gate refuse an event before the daemon sees it', () => {
    const { runtime } = ledgerRuntime();
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    const gate = runtime.addGate(origin, (_origin, event) => {
      if (event.payload[3] === 2) throw new Error('no twos');
    });
    runtime.deliver(origin, eventOf(1));
    expect(() => runtime.deliver(origin, eventOf(2))).toThrow('no twos');
    gate.dispose();
    runtime.deliver(origin, eventOf(2));
    expect(ledgerOf(runtime, origin).applied).toEqual([1, 2]);
  });

  it('counts an observer that throws without undoing the delivery', () => {
    const { runtime } = ledgerRuntime();
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    runtime.observe(origin, () => {
      throw new Error('observer bug');
    });
    expect(runtime.deliver(origin, eventOf(1))).toBe(1);
    expect(runtime.stats.observerErrors).toBe(1);
  });

  it('marks a throwing daemon crashed, reports it once and keeps serving the others', () => {
    const { runtime } = ledgerRuntime();
    const events: LifecycleEvent[] = [];
    runtime.onLifecycle((event) => events.push(event));
    const bad = runtime.spawn('ledger', identity(0)).originHash;
    const good = runtime.spawn('ledger', identity(1)).originHash;
    ledgerOf(runtime, bad).throwOnId = 3;
    expect(codeOf(() => runtime.deliver(bad, eventOf(3)))).toBe('DAEMON_CRASHED');
    expect(codeOf(() => runtime.deliver(bad, eventOf(4)))).toBe('DAEMON_CRASHED');
    runtime.deliver(good, eventOf(3));
    expect(ledgerOf(runtime, good).applied).toEqual([3]);
    expect(runtime.stats.crashes).toBe(1);
    expect(runtime.health(bad).status).toBe('unhealthy');
    const crashed = events.filter((event) => event.type === 'crashed');
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({ origin: bad, kind: 'ledger', errorCount: 1 });
    expect(events.map((event) => event.type)).toEqual([
      'registered',
      'registered',
      'crashed',
      'health-changed',
    ]);
  });

  it('reports registration, unregistration and health changes as lifecycle events', () => {
    const { runtime } = ledgerRuntime();
    const events: LifecycleEvent[] = [];
    const listener = runtime.onLifecycle((event) => events.push(event));
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    runtime.checkHealth();
    ledgerOf(runtime, origin).currentHealth = { status: 'degraded', reason: 'slow disk' };
    runtime.checkHealth();
    runtime.checkHealth();
    runtime.unregister(origin);
    listener.dispose();
    runtime.spawn('ledger', identity(0));
    expect(events).toEqual([
      { type: 'registered', origin, kind: 'ledger' },
      {
        type: 'health-changed',
        origin,
        kind: 'ledger',
        previous: { status: 'healthy' },
        current: { status: 'degraded', reason: 'slow disk' },
      },
      { type: 'unregistered', origin, kind: 'ledger' },
    ]);
  });

  it('sends control signals to one daemon and marks it crashed if it throws on one', () => {
    const { runtime } = ledgerRuntime();
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    runtime.control(origin, { type: 'drain-start' });
    expect(ledgerOf(runtime, origin).controls).toEqual([{ type: 'drain-start' }]);
    ledgerOf(runtime, origin).onControl = () => {
      throw new Error('cannot drain');
    };
    expect(codeOf(() => runtime.control(origin, { type: 'drain-finish' }))).toBe('DAEMON_CRASHED');
    expect(runtime.stats.crashes).toBe(1);
    expect(codeOf(() => runtime.deliver(origin, eventOf(1)))).toBe('DAEMON_CRASHED');
    expect(codeOf(() => runtime.control(99n, { type: 'drain-finish' }))).toBe('DAEMON_NOT_FOUND');
  });

  it('rejects deliveries queued or in flight on an unregistered daemon with DAEMON_REMOVED', async () => {
    const delays = new ManualDelays();
    const { runtime } = asyncLedgerRuntime(delays.delay);
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    let observed = 0;
    runtime.observe(origin, () => {
      observed++;
    });
    delays.hold();
    const pending = [1, 2, 3].map((id) => runtime.deliver(origin, eventOf(id)));
    const removed = runtime.unregister(origin);
    expect(removed.pendingDeliveries).toBe(0);
    await removed.whenIdle();
    // The daemon on the removed host answers late; its answer no longer counts.
    delays.releaseAll();
    for (const delivery of pending) await expect(delivery).rejects.toMatchObject({ code: 'DAEMON_REMOVED' });
    expect(removed.inboundPosition).toBe(0);
    expect(observed).toBe(0);
    expect(codeOf(() => removed.deliver(eventOf(4)))).toBe('DAEMON_REMOVED');
  });

  it('keeps observers attached to an origin across a re-spawn', () => {
    const { runtime } = ledgerRuntime();
    const origin = runtime.spawn('ledger', identity(0)).originHash;
    let seen = 0;
    runtime.observe(origin, () => {
      seen++;
    });
    runtime.unregister(origin);
    runtime.spawn('ledger', identity(0));
    runtime.deliver(origin, eventOf(1));
    expect(seen).toBe(1);
  });

  it('waits for in-flight asynchronous work on shutdown, at most for the grace period', async () => {
    const clock = new ManualClock();
    const runtime = new DaemonRuntime({ clock });
    let release: (() => void) | undefined;
    runtime.registerKind('slow', () => ({
      name: 'slow',
      process: () =>
        new Promise<readonly Uint8Array[]>((resolve) => {
          release = () => resolve([]);
        }),
      health: () => ({ status: 'healthy' }),
      saturation: () => 0,
      onControl: () => {},
    }));
    runtime.start();
    const origin = runtime.spawn('slow', identity(0)).originHash;
    const pending = runtime.deliver(origin, eventOf(1));
    const stopping = runtime.shutdown(1_000);
    expect(runtime.phase).toBe('shutting-down');
    clock.advance(1_000);
    await stopping;
    expect(runtime.phase).toBe('stopped');
    release?.();
    await expect(pending).resolves.toBe(1);
  });
});
