/**
 * The chains metrics of a node (`meshos_chain_*`), registered once: each is read at scrape time
 * from the running chains service, so a restarted service is counted without registering again.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ChainCoordinator, ChainHost, ChainMessage } from '../chains/index.js';
import type { ChainRequestCounters } from './chain-requests.js';

export function registerChainMetrics(
  registry: Registry,
  host: () => ChainHost<ChainMessage> | undefined,
  counters: ChainRequestCounters,
): void {
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
  const leaderStatuses = () =>
    (host()?.replicas() ?? []).map(([, replica]) => replica.status()).filter((status) => status.leading);
  gauge(
    'meshos_chain_replicas_held',
    'chains this node holds a replica (or learner) of',
    () => host()?.replicas().length ?? 0,
  );
  gauge(
    'meshos_chain_replicas_refused',
    'chains naming this node that it refused to open: it holds its most chains (capacity.chains)',
    () => host()?.refusedChains().length ?? 0,
  );
  gauge('meshos_chain_leaders', 'chains this node leads', () => leaderStatuses().length);
  gauge(
    'meshos_chain_appends',
    'appends acknowledged through this node since it started',
    () => counters.appends,
  );
  gauge(
    'meshos_chain_append_records',
    'records in the appends acknowledged through this node',
    () => counters.appendRecords,
  );
  gauge(
    'meshos_chain_forwarded_appends',
    'appends this node forwarded to another node that led the chain',
    () => counters.forwardedAppends,
  );
  gauge(
    'meshos_chain_append_failures',
    'appends through this node that failed (not written or outcome unknown)',
    () => counters.appendFailures,
  );
  gauge(
    'meshos_chain_commit_lag_max_records',
    'on the chains this node leads: the most records a replica is behind',
    () =>
      Math.max(
        0,
        ...leaderStatuses().flatMap((status) => (status.replicas ?? []).map((replica) => replica.lag)),
      ),
  );
  gauge(
    'meshos_chain_failover_proposals',
    'next-epoch proposals this node made after suspecting a leader',
    () => counters.failoverProposals,
  );
}

/** Most chains `/status` lists one by one; the counts cover them all. */
export const MAX_STATUS_CHAINS = 100;

/** What `/status` shows of the chains service: counts, and the first chains held, by name. */
export function chainsStatusView(
  host: ChainHost<ChainMessage> | undefined,
  coordinator: ChainCoordinator | undefined,
): Record<string, unknown> | undefined {
  if (host === undefined) return undefined;
  const held = host.replicas().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const statuses = held.map(([name, replica]) => ({ name, ...replica.status() }));
  return {
    coordinating: coordinator?.coordinating === true,
    held: held.length,
    leading: statuses.filter((status) => status.leading).length,
    // Named by a definition, not opened: this node holds its most chains.
    refused: host.refusedChains().slice(0, MAX_STATUS_CHAINS),
    chains: statuses.slice(0, MAX_STATUS_CHAINS).map((status) => ({
      name: status.name,
      leading: status.leading,
      epoch: status.epoch,
      commitOffset: status.commitOffset,
      endOffset: status.endOffset,
    })),
  };
}
