import {
  type DaemonEvent,
  DaemonRuntime,
  HEALTHY,
  type MeshDaemon,
  memberIdentity,
  StandbyGroup,
} from '../src/compute/index.js';
import { ManualClock } from '../src/lib/index.js';
import type { BenchSuite } from './harness.js';

const DELIVER_EVENTS_PER_RUN = 2_000_000;
const DELIVER_RUNS = 7;
const SYNC_STATE_BYTES = 1 << 20;
const SYNC_STANDBYS = 3;
const SYNC_RUNS = 30;
const REPLAY_EVENTS = 10_000;
const PROMOTE_RUNS = 30;
const NO_OUTPUTS: readonly Uint8Array[] = [];

/** The trivial counter of the brief; `emit` decides whether each event yields one 8-byte output. */
class CounterDaemon implements MeshDaemon {
  readonly name = 'counter';
  count = 0;
  constructor(private readonly emit: boolean) {}
  process(_event: DaemonEvent): readonly Uint8Array[] {
    this.count++;
    if (!this.emit) return NO_OUTPUTS;
    const output = new Uint8Array(8);
    output[0] = this.count & 0xff;
    return [output];
  }
  snapshot(): Uint8Array {
    const state = new Uint8Array(8);
    new DataView(state.buffer).setFloat64(0, this.count);
    return state;
  }
  restore(state: Uint8Array): void {
    this.count = state.length === 0 ? 0 : new DataView(state.buffer, state.byteOffset, 8).getFloat64(0);
  }
  health() {
    return HEALTHY;
  }
  saturation(): number {
    return 0;
  }
  onControl(): void {}
}

/** Holds a fixed block of state bytes, as a daemon with 1 MiB of state would. */
class BlobDaemon implements MeshDaemon {
  readonly name = 'blob';
  state = new Uint8Array(SYNC_STATE_BYTES).fill(7);
  process(): readonly Uint8Array[] {
    return NO_OUTPUTS;
  }
  snapshot(): Uint8Array {
    return this.state.slice();
  }
  restore(state: Uint8Array): void {
    this.state = state.slice();
  }
  health() {
    return HEALTHY;
  }
  saturation(): number {
    return 0;
  }
  onControl(): void {}
}

function seedOf(label: number): Uint8Array {
  return new Uint8Array(32).fill(label);
}

function deliverThroughput(emit: boolean): number {
  const runtime = new DaemonRuntime({ clock: new ManualClock() });
  runtime.registerKind('counter', () => new CounterDaemon(emit));
  runtime.start();
  const origin = runtime.spawn('counter', memberIdentity(seedOf(1), 0)).originHash;
  let observed = 0;
  runtime.observe(origin, () => {
    observed++;
  });
  const event: DaemonEvent = { payload: new Uint8Array(8) };
  const started = performance.now();
  for (let index = 0; index < DELIVER_EVENTS_PER_RUN; index++) runtime.deliver(origin, event);
  const elapsedMs = performance.now() - started;
  if (observed !== DELIVER_EVENTS_PER_RUN) throw new Error('observer missed events');
  return DELIVER_EVENTS_PER_RUN / (elapsedMs / 1000);
}

export const suite: BenchSuite = {
  name: 'compute',
  async run(context) {
    for (const emit of [false, true]) {
      deliverThroughput(emit); // warm-up
      const figure = await context.repeat(DELIVER_RUNS, () => deliverThroughput(emit));
      context.record({
        metric: `deliver, counter daemon + 1 observer, ${emit ? 'one 8-byte output per event' : 'no outputs'}`,
        median: figure.median,
        unit: 'events/s',
        samples: DELIVER_RUNS,
        target: '>= 5,000,000',
      });
    }

    const syncRuntime = new DaemonRuntime({ clock: new ManualClock() });
    syncRuntime.registerKind('blob', () => new BlobDaemon());
    syncRuntime.start();
    const syncGroup = StandbyGroup.spawn(syncRuntime, 'blob', {
      memberCount: SYNC_STANDBYS + 1,
      groupSeed: seedOf(2),
    });
    const sync = await context.repeat(SYNC_RUNS, () => {
      const started = performance.now();
      syncGroup.syncStandbys();
      return performance.now() - started;
    });
    context.record({
      metric: `syncStandbys, 1 MiB state to ${SYNC_STANDBYS} standbys`,
      median: sync.median,
      p99: sync.p99,
      unit: 'ms',
      samples: SYNC_RUNS,
    });

    let promoteSeed = 10;
    const promote = await context.repeat(PROMOTE_RUNS, async () => {
      const runtime = new DaemonRuntime({ clock: new ManualClock() });
      runtime.registerKind('counter', () => new CounterDaemon(true));
      runtime.start();
      const group = StandbyGroup.spawn(runtime, 'counter', {
        memberCount: 3,
        groupSeed: seedOf(promoteSeed++ & 0xff),
        replayBufferCapacityEvents: REPLAY_EVENTS,
        onReplayBufferFull: 'reject',
      });
      const event: DaemonEvent = { payload: new Uint8Array(8) };
      for (let index = 0; index < REPLAY_EVENTS; index++) group.deliver(event);
      const started = performance.now();
      await group.onNodeFailure(1);
      const elapsedMs = performance.now() - started;
      if (group.stats.replayedEvents !== REPLAY_EVENTS) throw new Error('replay incomplete');
      return elapsedMs;
    });
    context.record({
      metric: `promote + replay of ${REPLAY_EVENTS} buffered events`,
      median: promote.median,
      p99: promote.p99,
      unit: 'ms',
      samples: PROMOTE_RUNS,
      target: '<= 20 ms',
    });
  },
};
