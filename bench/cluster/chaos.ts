import type { BenchCluster } from './bench-cluster.js';
import { describeLoad, MAX_REQUESTS_PER_TIMED_LOAD, runLoad } from './load.js';
import { sleep } from './processes.js';
import { NOT_CONNECTED_MESSAGE } from './raw-kv-channels.js';
import { formatErrors } from './report-section.js';
import type { Log } from './suite.js';

/**
 * `npm run bench:etcd -- --chaos`: puts from a few clients while members are killed (kill -9)
 * in turn and restarted; counts the writes whose outcome the client cannot know.
 */
export interface ChaosOptions {
  readonly durationMs: number;
  readonly clients: number;
  /** A member is killed this often, the next one in turn each time... */
  readonly killEveryMs: number;
  /** ...and started again this long after. */
  readonly downMs: number;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  durationMs: 45_000,
  clients: 12,
  killEveryMs: 5_000,
  downMs: 2_000,
};

/**
 * Failures that say the write was never applied: refused before it was proposed, or the
 * connection was never made. Every other failure (deadline passed, connection lost with the
 * request in flight, `leader changed`, `request timed out`) leaves its outcome unknown.
 */
function neverApplied(message: string): boolean {
  return (
    /etcdserver: (no leader|not leader|too many requests)/.test(message) || message === NOT_CONNECTED_MESSAGE
  );
}

export interface ChaosResult {
  readonly system: string;
  readonly kills: number;
  readonly succeeded: number;
  readonly unknownOutcome: number;
  readonly neverApplied: number;
  readonly errors: Readonly<Record<string, number>>;
}

export async function runChaos(cluster: BenchCluster, options: ChaosOptions, log: Log): Promise<ChaosResult> {
  const errors: Record<string, number> = {};
  let unknownOutcome = 0;
  let refused = 0;
  const load = runLoad({
    endpoints: cluster.endpoints,
    operation: 'put',
    clients: options.clients,
    maxRequests: MAX_REQUESTS_PER_TIMED_LOAD,
    maxDurationMs: options.durationMs,
    observe: (_sentAt, _doneAt, succeeded, error) => {
      if (succeeded) return;
      const message = error ?? '?';
      errors[message] = (errors[message] ?? 0) + 1;
      if (neverApplied(message)) refused++;
      else unknownOutcome++;
    },
  });
  const startedAt = Date.now();
  const restarts: Promise<void>[] = [];
  let kills = 0;
  for (let slot = 1; slot * options.killEveryMs + options.downMs < options.durationMs; slot++) {
    await sleep(startedAt + slot * options.killEveryMs - Date.now());
    const member = (slot - 1) % cluster.endpoints.length;
    await cluster.kill(member);
    kills++;
    await sleep(options.downMs);
    // Not awaited: the next kill keeps its schedule whether or not the members agree by then.
    restarts.push(cluster.restart(member, options.killEveryMs).catch(() => {}));
  }
  const result = await load;
  await Promise.all(restarts);
  log(`  chaos: ${kills} kills; ${describeLoad(result)}; ${unknownOutcome} writes of unknown outcome`);
  return {
    system: cluster.system,
    kills,
    succeeded: result.succeeded,
    unknownOutcome,
    neverApplied: refused,
    errors,
  };
}

export function renderChaos(results: readonly ChaosResult[], options: ChaosOptions, context: string): string {
  const lines = [
    '## Kill -9 chaos: writes of unknown outcome',
    '',
    `${context}. ${options.clients} put clients (closed loop, 5 s client deadline, spread over all members) for ${options.durationMs / 1000} s; every ${options.killEveryMs / 1000} s the next member in turn is killed with kill -9 and started again ${options.downMs / 1000} s later. A failed write is of unknown outcome unless its answer says it was never applied (\`no leader\`, \`not leader\`, \`too many requests\`, connection refused).`,
    '',
    '| system | kills | acknowledged writes | unknown outcome | refused (never applied) | errors by message |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const result of results) {
    lines.push(
      `| ${result.system} | ${result.kills} | ${result.succeeded} | ${result.unknownOutcome} | ${result.neverApplied} | ${formatErrors(result.errors)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
