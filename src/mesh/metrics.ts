import { constants, createHistogram, PerformanceObserver } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  EventLoopOwnDelay,
  LONG_STEP_THRESHOLD_MS,
  type RunQueueWaitLog,
  STEP_SOURCES,
  type StepDurations,
} from '../lib/index.js';
import { mainThreadRunQueueWaits } from '../lib/node/index.js';
import type { NodeApplyResult, NodeStateMachine, RaftKvBackend, RaftNode } from '../server/index.js';
import type { TransportCounters } from '../transport/index.js';
import { registerAuthRefusalMetrics } from './auth-metrics.js';

/** Prometheus metrics of one node, read from its parts when scraped. */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly proposals: Counter;
  readonly proposalFailures: Counter;
  readonly leaderChanges: Counter;
  readonly persistSeconds: Histogram;
  /** Records how late a firing of the Raft tick timer was, ms: the event loop's delay. */
  observeTickTimer(latenessMs: number): void;
  /** Stops the event-loop delay window and the GC observer. */
  close(): void;
}

/** The delay histogram is read and restarted this often; each window's worst delay is recorded. */
const EVENT_LOOP_WINDOW_MS = 1_000;
const NANOSECONDS_PER_SECOND = 1e9;
const NANOSECONDS_PER_MILLISECOND = 1e6;
/**
 * prom-client's own event-loop lag gauges (`meshos_process_nodejs_eventloop_lag_*`) sample this
 * often: each sample is a timer of their own, waking an idle node. The precise figures are
 * MeshOS's, taken on the Raft tick timer that fires every tick interval anyway.
 */
const PROM_CLIENT_LAG_SAMPLE_MS = 1_000;
const WINDOW_MAX_DELAY_BUCKETS_SECONDS = [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

/**
 * Event-loop delay: p50/p99 of the last window, the worst delay since start, and a histogram of
 * each window's worst delay, so a scraper can count stalls (windows over 50 ms, say) between two
 * scrapes by subtracting bucket counts. Fed the lateness of each firing of the Raft tick timer;
 * returns what records one, and what stops the window timer.
 */
function registerEventLoopDelay(
  registry: Registry,
  waits: RunQueueWaitLog,
): { observeTimer: (latenessMs: number) => void; close: () => void } {
  const sampled = createHistogram();
  const delay = new Gauge({
    name: 'meshos_event_loop_delay_seconds',
    help: 'event-loop delay (lateness of the Raft tick timer): p50 and p99 over the last window, max since start',
    labelNames: ['stat'],
    registers: [registry],
  });
  const windowMax = new Histogram({
    name: 'meshos_event_loop_window_max_delay_seconds',
    help: `worst event-loop delay in each ${EVENT_LOOP_WINDOW_MS} ms window`,
    buckets: WINDOW_MAX_DELAY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const ownWindowMax = new Histogram({
    name: 'meshos_event_loop_window_max_own_delay_seconds',
    help: `worst event-loop delay in each ${EVENT_LOOP_WINDOW_MS} ms window less the main thread's run-queue wait over it: the node's own work (equal to the wall delay where the kernel keeps no schedstat)`,
    buckets: WINDOW_MAX_DELAY_BUCKETS_SECONDS,
    registers: [registry],
  });
  new Gauge({
    name: 'meshos_main_thread_run_queue_wait_seconds',
    help: "the main thread's time ready to run but waiting for a CPU since the process started (Linux schedstat; 0 elsewhere)",
    registers: [registry],
    collect() {
      this.set(waits.available ? waits.read() / 1000 : 0);
    },
  });
  const ownDelay = new EventLoopOwnDelay();
  let maxSeconds = 0;
  const timer = setInterval(() => {
    const window = ownDelay.closeWindow();
    ownWindowMax.observe(window.ownMaxMs / 1000);
    const windowMaxSeconds = window.wallMaxMs / 1000;
    maxSeconds = Math.max(maxSeconds, windowMaxSeconds);
    windowMax.observe(windowMaxSeconds);
    const recorded = sampled.count > 0;
    delay.set({ stat: 'p50' }, recorded ? sampled.percentile(50) / NANOSECONDS_PER_SECOND : 0);
    delay.set({ stat: 'p99' }, recorded ? sampled.percentile(99) / NANOSECONDS_PER_SECOND : 0);
    delay.set({ stat: 'max' }, maxSeconds);
    sampled.reset();
  }, EVENT_LOOP_WINDOW_MS);
  timer.unref();
  return {
    observeTimer: (latenessMs) => {
      // The histogram takes whole nanoseconds from 1 up.
      sampled.record(Math.max(1, Math.round(latenessMs * NANOSECONDS_PER_MILLISECOND)));
      ownDelay.observe(latenessMs, waits.available ? waits.read() : 0);
    },
    close: () => clearInterval(timer),
  };
}

/**
 * The node's own longest synchronous steps, by source (a fixed list: the series are bounded),
 * garbage-collection pauses among them. Returns what stops the GC observer.
 */
function registerStepDurations(registry: Registry, steps: StepDurations): () => void {
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
      const source = kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'gc-minor' : 'gc-major';
      steps.observePast(source, entry.startTime, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'meshos_longest_step_seconds',
    help: "longest synchronous piece of the node's own work since start, by source",
    labelNames: ['source'],
    registers: [registry],
    collect() {
      for (const source of STEP_SOURCES) this.set({ source }, steps.longestMs(source) / 1000);
    },
  });
  new Gauge({
    name: 'meshos_long_steps',
    help: `synchronous pieces of the node's own work longer than ${LONG_STEP_THRESHOLD_MS} ms since start, by source`,
    labelNames: ['source'],
    registers: [registry],
    collect() {
      for (const source of STEP_SOURCES) this.set({ source }, steps.longCount(source));
    },
  });
  new Gauge({
    name: 'meshos_longest_step_own_seconds',
    help: "longest synchronous piece of the node's own work since start by its own time (wall time less the main thread's run-queue wait), by source",
    labelNames: ['source'],
    registers: [registry],
    collect() {
      for (const source of STEP_SOURCES) this.set({ source }, steps.longestOwnMs(source) / 1000);
    },
  });
  new Gauge({
    name: 'meshos_long_own_steps',
    help: `synchronous pieces of the node's own work whose own time (wall less run-queue wait) passed ${LONG_STEP_THRESHOLD_MS} ms since start, by source`,
    labelNames: ['source'],
    registers: [registry],
    collect() {
      for (const source of STEP_SOURCES) this.set({ source }, steps.longOwnCount(source));
    },
  });
  new Gauge({
    name: 'meshos_long_own_steps_outside_gc',
    help: `synchronous pieces of the node's own work whose own time less the GC pauses inside them passed ${LONG_STEP_THRESHOLD_MS} ms since start, by source (judged a second after they end)`,
    labelNames: ['source'],
    registers: [registry],
    collect() {
      steps.settle();
      for (const source of STEP_SOURCES) this.set({ source }, steps.longOwnCountOutsideGc(source));
    },
  });
  new Gauge({
    name: 'meshos_longest_step_own_outside_gc_seconds',
    help: `among the steps whose own time passed ${LONG_STEP_THRESHOLD_MS} ms: the longest own time less the GC pauses inside it, by source`,
    labelNames: ['source'],
    registers: [registry],
    collect() {
      steps.settle();
      for (const source of STEP_SOURCES) this.set({ source }, steps.longestOwnOutsideGcMs(source) / 1000);
    },
  });
  return () => gcObserver.disconnect();
}

export function createNodeMetrics(
  node: RaftNode<NodeApplyResult>,
  transport: { counters: TransportCounters },
  machine: NodeStateMachine,
  backend: RaftKvBackend,
  steps: StepDurations,
): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({
    register: registry,
    prefix: 'meshos_process_',
    eventLoopMonitoringPrecision: PROM_CLIENT_LAG_SAMPLE_MS,
  });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('meshos_raft_term', 'current Raft term', () => node.status().term);
  gauge('meshos_raft_commit_index', 'highest log index known committed', () => node.status().commit);
  gauge('meshos_raft_applied_index', 'highest log index applied here', () => node.applied);
  gauge(
    'meshos_raft_log_entries_in_memory',
    'log entries held in memory (after the last snapshot, minus what compaction dropped)',
    () => node.logMemory().entries,
  );
  gauge(
    'meshos_raft_snapshot_bytes_in_memory',
    'bytes of a Raft snapshot held in memory: one encoded until saved, or received until restored (followers are sent snapshots from their files)',
    () => node.logMemory().snapshotBytes,
  );
  gauge('meshos_raft_is_leader', '1 when this node leads', () => (node.isLeader() ? 1 : 0));
  gauge('meshos_store_fsyncs', 'fdatasync calls by the write-ahead log', () => node.storeMetrics().fsyncs);
  gauge('meshos_store_segments', 'write-ahead log segment files', () => node.storeMetrics().segments);
  gauge(
    'meshos_store_snapshots_saved',
    'snapshots saved since start, taken here or received from the leader (one every --snapshot-count applied entries)',
    () => node.storeMetrics().snapshotsSaved,
  );
  gauge(
    'meshos_store_fsync_seconds_total',
    "time in the store's fdatasyncs (over meshos_store_fsyncs: the mean sync)",
    () => node.storeMetrics().fsyncLatencyTotalMs / 1000,
  );
  gauge(
    'meshos_store_bytes_written',
    'bytes of records written to write-ahead log segments (not the preallocated size of their files)',
    () => node.storeMetrics().bytesWritten,
  );
  gauge('meshos_transport_sent_messages', 'peer messages sent', () => transport.counters.sentMessages);
  gauge(
    'meshos_transport_sent_frames',
    'peer frames (socket writes) sent',
    () => transport.counters.sentFrames,
  );
  gauge(
    'meshos_transport_received_messages',
    'peer messages received',
    () => transport.counters.receivedMessages,
  );
  gauge('meshos_mvcc_current_revision', 'current revision of the key-value store', () => machine.kv.revision);
  gauge('meshos_mvcc_compact_revision', 'oldest revision still readable', () => machine.kv.compactRevision);
  gauge(
    'meshos_mvcc_stored_records',
    'records kept: every revision of every key since the compact revision, tombstones included',
    () => machine.kv.storedRecordCount,
  );
  gauge(
    'meshos_mvcc_stored_bytes',
    'what the stored data counts for the space quota (keys, values, per-record and per-lease overhead)',
    () => machine.kv.storedBytes,
  );
  gauge(
    'meshos_mvcc_value_slab_bytes',
    'memory of the slabs that hold the stored values (ArrayBuffers, outside the V8 heap)',
    () => machine.kv.valueSlabBytes,
  );
  gauge(
    'meshos_server_quota_backend_bytes',
    'space quota (--quota-backend-bytes)',
    () => backend.quotaBackendBytes,
  );
  gauge(
    'meshos_auto_compaction_steps',
    'compaction steps this node proposed as leader by auto-compaction and saw applied',
    () => backend.compactor?.counters.steps ?? 0,
  );
  new Gauge({
    name: 'meshos_server_alarms',
    help: 'alarms raised in the cluster, by type (NOSPACE: a member passed the space quota)',
    labelNames: ['alarm'],
    registers: [registry],
    collect() {
      this.set({ alarm: 'NOSPACE' }, machine.kv.alarms.filter((member) => member.alarm === 'NOSPACE').length);
    },
  });
  new Gauge({
    name: 'meshos_transport_refused_peers',
    help: 'peer connections refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, count] of Object.entries(transport.counters.refusedPeers))
        this.set({ reason }, count);
    },
  });
  registerAuthRefusalMetrics(registry, () => backend.authRefusals);
  gauge('meshos_auth_enabled', '1 when authentication is on', () => (machine.auth.enabled ? 1 : 0));
  gauge(
    'meshos_auth_revision',
    'auth store revision (bumped by every user, role or permission change)',
    () => machine.auth.revision,
  );
  const stopGcObserver = registerStepDurations(registry, steps);
  const proposals = new Counter({
    name: 'meshos_proposals_total',
    help: 'proposals made on this node (client writes, member changes), settled',
    registers: [registry],
  });
  const proposalFailures = new Counter({
    name: 'meshos_proposal_failures_total',
    help: 'proposals made on this node that were refused or not applied',
    registers: [registry],
  });
  const leaderChanges = new Counter({
    name: 'meshos_leader_changes_total',
    help: 'leader changes seen by this node',
    registers: [registry],
  });
  const persistSeconds = new Histogram({
    name: 'meshos_wal_persist_seconds',
    help: 'time to make one Ready durable (write-ahead log append and fdatasync)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  node.onLeaderChange(() => leaderChanges.inc());
  const eventLoopDelay = registerEventLoopDelay(registry, mainThreadRunQueueWaits());
  const close = (): void => {
    eventLoopDelay.close();
    stopGcObserver();
  };
  return {
    registry,
    proposals,
    proposalFailures,
    leaderChanges,
    persistSeconds,
    observeTickTimer: eventLoopDelay.observeTimer,
    close,
  };
}
