import type { BenchCluster } from './bench-cluster.js';
import { etcdStatus } from './etcd-cluster.js';
import { KvChannels } from './kv-channels.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, describeLoad, MAX_REQUESTS_PER_TIMED_LOAD, runLoad } from './load.js';
import { residentBytes, sleep } from './processes.js';
import { formatErrors } from './report-section.js';
import type { Log } from './suite.js';

/**
 * `npm run bench:etcd -- --catch-up [--keys N]`: a follower is killed, many keys are loaded
 * without it, enough writes follow to pass the snapshot threshold (both systems snapshot every
 * 100,000 entries and keep 5,000 after), so the leader can only bring the follower back with a
 * snapshot. The follower is restarted while a few clients keep writing; counted: how long it
 * takes to apply what it missed, client errors and term changes meanwhile (issue 11 asks for
 * none), and the follower's memory afterwards.
 */
export interface CatchUpOptions {
  readonly keys: number;
  readonly keysPerTxn: number;
  readonly valueBytes: number;
  /** Txns in flight while loading. */
  readonly loadConcurrency: number;
  /** Single puts after the load, so the log passes the snapshot threshold. */
  readonly snapshotPuts: number;
  readonly snapshotPutClients: number;
  /** Clients writing while the follower catches up. */
  readonly writers: number;
  readonly catchUpTimeoutMs: number;
}

export const DEFAULT_CATCH_UP_OPTIONS: CatchUpOptions = {
  keys: 1_000_000,
  // etcd's default limit on operations per txn is 128.
  keysPerTxn: 100,
  valueBytes: 128,
  loadConcurrency: 16,
  snapshotPuts: 110_000,
  snapshotPutClients: 64,
  writers: 4,
  catchUpTimeoutMs: 300_000,
};

const STATUS_POLL_MS = 100;
const KEY_DIGITS = 12;
const BYTES_PER_MIB = 1024 * 1024;

export interface CatchUpResult {
  readonly system: string;
  readonly keys: number;
  readonly loadMs: number;
  /** Entries the leader had applied when the follower restarted. */
  readonly backlogIndex: number;
  /** From the restart to the follower applying `backlogIndex`. */
  readonly catchUpMs: number;
  readonly writesDuring: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly termBefore: number;
  readonly termAfter: number;
  readonly followerRssMiB: number;
  readonly leaderRssMiB: number;
}

function catchUpKey(index: number): Buffer {
  return Buffer.from(`cu/${String(index).padStart(KEY_DIGITS, '0')}`);
}

/** Loads `options.keys` keys through `endpoint` in txns, `loadConcurrency` at a time. */
async function loadKeys(endpoint: string, options: CatchUpOptions): Promise<void> {
  const channels = new KvChannels([endpoint], options.loadConcurrency);
  const value = Buffer.alloc(options.valueBytes, 0x63);
  let next = 0;
  const worker = async (channel: number): Promise<void> => {
    while (next < options.keys) {
      const start = next;
      next = Math.min(options.keys, start + options.keysPerTxn);
      const success = [];
      for (let index = start; index < next; index++) {
        success.push({ request_put: { key: catchUpKey(index), value } });
      }
      await channels.call(channel, 'Txn', { compare: [], success, failure: [] }, DEFAULT_REQUEST_TIMEOUT_MS);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.loadConcurrency }, (_, channel) => worker(channel)));
  } finally {
    channels.close();
  }
}

async function appliedIndex(endpoint: string): Promise<number | undefined> {
  const status = await etcdStatus(endpoint);
  if (status === undefined) return undefined;
  return Number(status.raftAppliedIndex);
}

async function rssMiB(cluster: BenchCluster, index: number): Promise<number> {
  const pid = cluster.pid(index);
  return pid === undefined ? 0 : Math.round((await residentBytes(pid)) / BYTES_PER_MIB);
}

export async function runCatchUp(
  cluster: BenchCluster,
  options: CatchUpOptions,
  log: Log,
): Promise<CatchUpResult> {
  const leader = await cluster.leaderIndex(10_000);
  const follower = (leader + 1) % cluster.endpoints.length;
  const leaderEndpoint = cluster.endpoints[leader]!;
  const followerEndpoint = cluster.endpoints[follower]!;
  await cluster.kill(follower);
  log(`  member ${follower + 1} killed; loading ${options.keys} keys through the leader`);
  const loadStarted = performance.now();
  await loadKeys(leaderEndpoint, options);
  const loadMs = performance.now() - loadStarted;
  log(`  loaded in ${Math.round(loadMs)} ms; ${options.snapshotPuts} puts to pass the snapshot threshold`);
  const puts = await runLoad({
    endpoints: [leaderEndpoint],
    operation: 'put',
    clients: options.snapshotPutClients,
    maxRequests: options.snapshotPuts,
    maxDurationMs: options.catchUpTimeoutMs,
  });
  log(`  ${describeLoad(puts)}`);

  const termBefore = await cluster.raftTerm();
  const errors: Record<string, number> = {};
  const stopWriters = new AbortController();
  const running = cluster.endpoints.filter((_, index) => index !== follower);
  const writers = runLoad({
    endpoints: running,
    operation: 'put',
    clients: options.writers,
    maxRequests: MAX_REQUESTS_PER_TIMED_LOAD,
    maxDurationMs: options.catchUpTimeoutMs,
    signal: stopWriters.signal,
    observe: (_sentAt, _doneAt, succeeded, error) => {
      if (!succeeded) errors[error ?? '?'] = (errors[error ?? '?'] ?? 0) + 1;
    },
  });
  const backlogIndex = (await appliedIndex(leaderEndpoint)) ?? 0;
  const restarted = performance.now();
  const deadline = restarted + options.catchUpTimeoutMs;
  let catchUpMs: number | undefined;
  try {
    await cluster.restart(follower, options.catchUpTimeoutMs);
    while (performance.now() < deadline) {
      const applied = await appliedIndex(followerEndpoint);
      if (applied !== undefined && applied >= backlogIndex) {
        catchUpMs = performance.now() - restarted;
        break;
      }
      await sleep(STATUS_POLL_MS);
    }
  } finally {
    stopWriters.abort();
  }
  const written = await writers;
  if (catchUpMs === undefined) {
    throw new Error(`${cluster.system}: the follower did not apply index ${backlogIndex} in time`);
  }
  const result: CatchUpResult = {
    system: cluster.system,
    keys: options.keys,
    loadMs,
    backlogIndex,
    catchUpMs,
    writesDuring: written.succeeded,
    errors,
    termBefore,
    termAfter: await cluster.raftTerm(),
    followerRssMiB: await rssMiB(cluster, follower),
    leaderRssMiB: await rssMiB(cluster, leader),
  };
  log(
    `  caught up to index ${backlogIndex} in ${Math.round(catchUpMs)} ms; ${describeLoad(written)}; term ${termBefore} -> ${result.termAfter}`,
  );
  return result;
}

export function renderCatchUp(
  results: readonly CatchUpResult[],
  options: CatchUpOptions,
  context: string,
): string {
  const lines = [
    '## A follower catching up from a snapshot',
    '',
    `${context}. One follower killed; ${options.keys.toLocaleString('en')} keys (${options.valueBytes}-byte values, ${options.keysPerTxn} per txn, ${options.loadConcurrency} txns in flight) loaded through the leader, then ${options.snapshotPuts.toLocaleString('en')} puts from ${options.snapshotPutClients} clients so the leader snapshots and compacts its log (both systems: a snapshot every 100,000 entries, 5,000 kept after it). The follower is then restarted while ${options.writers} clients keep writing to the other members; catch-up runs from the restart to the follower applying the leader's index at that moment.`,
    '',
    '| system | keys | load (s) | backlog index | catch-up (s) | writes during it | client errors | terms | follower / leader RSS after (MiB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
  ];
  for (const result of results) {
    lines.push(
      `| ${result.system} | ${result.keys} | ${(result.loadMs / 1000).toFixed(1)} | ${result.backlogIndex} | ${(result.catchUpMs / 1000).toFixed(1)} | ${result.writesDuring} | ${formatErrors(result.errors)} | ${result.termBefore} → ${result.termAfter} | ${result.followerRssMiB} / ${result.leaderRssMiB} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
