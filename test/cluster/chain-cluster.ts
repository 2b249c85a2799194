/** Helpers of the multi-process chains tests: clients per node, bounded polling, record copies. */
import { MeshClient } from '../../src/client/index.js';
import { isMeshError } from '../../src/lib/index.js';
import type { ReplicaRecord } from '../support/chain-history.js';
import type { ProcessCluster } from './process-cluster.js';

/** Each call of a chains test gets this long before it counts as failed (or unknown). */
export const CHAIN_CALL_TIMEOUT_MS = 3_000;
/** How long a test waits for a condition (a leader, a caught-up replica) before it fails. */
export const CONDITION_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;

/** A client of one node's client port only: its reads are that node's answers. */
export function clientOf(cluster: ProcessCluster, id: number): Promise<MeshClient> {
  return MeshClient.connect({
    endpoints: [cluster.plan(id).client],
    timeoutMs: CHAIN_CALL_TIMEOUT_MS,
    discoverLeader: false,
  });
}

/** Polls `probe` until it answers a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = CONDITION_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(lastError)})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Creates the chain through `client`, retrying while the mesh cannot place it yet. */
export async function createChain(client: MeshClient, name: string, replicas: number): Promise<void> {
  await eventually(`create chain ${name}`, async () => {
    try {
      await client.chains.create(name, { replicas, acks: 'quorum' });
      return true;
    } catch (error) {
      if (isMeshError(error, 'CHAIN_EXISTS')) return true;
      throw error;
    }
  });
}

/** Every committed data record of `chain` as the node behind `client` answers it. */
export async function readAll(client: MeshClient, chain: string): Promise<ReplicaRecord[]> {
  return (await readCommitted(client, chain)).records;
}

/** `readAll`, and the offset its last read stopped at (the node's commit offset then). */
export async function readCommitted(
  client: MeshClient,
  chain: string,
): Promise<{ records: ReplicaRecord[]; nextOffset: number }> {
  const records: ReplicaRecord[] = [];
  let offset = 0;
  for (;;) {
    const page = await client.chains.read(chain, { fromOffset: offset });
    for (const record of page.records)
      records.push({ offset: record.offset, value: new TextDecoder().decode(record.payload) });
    if (page.nextOffset === offset) return { records, nextOffset: offset };
    offset = page.nextOffset;
  }
}
