/** Helpers of the multi-process daemons tests: a started cluster with a daemons client per node. */
import { ProcessCluster } from './process-cluster.js';
import { RawDaemonsClient } from './raw-daemons-client.js';

/** Starting node processes on a loaded 2-core machine took 20 s for 3 nodes. */
const STARTUP_TIMEOUT_MS = 90_000;

export const textOf = (payload: Uint8Array): string => new TextDecoder().decode(payload);

export interface DaemonCluster {
  readonly cluster: ProcessCluster;
  /** A client of each node's client port only, by node id. */
  readonly clients: ReadonlyMap<number, RawDaemonsClient>;
  readonly ids: readonly number[];
  client(id: number): RawDaemonsClient;
  stop(): Promise<void>;
}

/**
 * `size` voters started with the built `meshos start` (with `nodeArguments` added), once they
 * agree on a Raft leader.
 */
export async function startDaemonCluster(
  size: number,
  options: { nodeArguments?: readonly string[] } = {},
): Promise<DaemonCluster> {
  const cluster = await ProcessCluster.create(size, options);
  const clients = new Map<number, RawDaemonsClient>();
  const stop = async (): Promise<void> => {
    for (const client of clients.values()) client.close();
    clients.clear();
    await cluster.stopAll();
  };
  try {
    cluster.startAll();
    await cluster.waitForLeader(STARTUP_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  for (const plan of cluster.plans) clients.set(plan.id, new RawDaemonsClient(plan.client));
  return {
    cluster,
    clients,
    ids: cluster.plans.map((plan) => plan.id),
    client: (id) => clients.get(id)!,
    stop,
  };
}
