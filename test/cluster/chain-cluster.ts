/** Helpers of the multi-process chains tests: clients per node, bounded polling, record copies. */
import * as path from 'node:path';
import type { ChainStatus } from '../../src/api/index.js';
import { openChainLog } from '../../src/chains/index.js';
import { MeshClient } from '../../src/client/index.js';
import { isMeshError, SystemClock } from '../../src/lib/index.js';
import { NodeDisk } from '../../src/lib/node/index.js';
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

/**
 * Creates the chain through `client`, retrying while the mesh cannot place it yet; answers
 * create's status, or undefined when an earlier attempt had created it (CHAIN_EXISTS).
 */
export async function createChain(
  client: MeshClient,
  name: string,
  replicas: number,
): Promise<ChainStatus | undefined> {
  const created = await eventually(`create chain ${name}`, async () => {
    try {
      return { status: await client.chains.create(name, { replicas, acks: 'quorum' }) };
    } catch (error) {
      if (isMeshError(error, 'CHAIN_EXISTS')) return { status: undefined };
      throw error;
    }
  });
  return created.status;
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

/** One client per node, each talking to that node only (a paused node stalls only its own calls). */
export type NodeClients = ReadonlyMap<number, MeshClient>;

/** Status calls in the tests' helpers get this long before the next node is asked. */
const STATUS_CALL_TIMEOUT_MS = 2_000;
const READ_BATCH_RECORDS = 1_000;
const READ_BATCH_BYTES = 1_048_576;

/** The chain's status from the first of `nodes` that answers in time. */
export async function firstChainStatus(
  clients: NodeClients,
  chain: string,
  nodes: readonly number[] = [...clients.keys()],
): Promise<ChainStatus | undefined> {
  for (const node of nodes) {
    const status = await clients
      .get(node)
      ?.chains.status(chain, { timeoutMs: STATUS_CALL_TIMEOUT_MS })
      .catch(() => undefined);
    if (status !== undefined) return status;
  }
  return undefined;
}

/** A leader, `replicas` replicas, every one healthy and at the leader's end, everything committed. */
export async function chainHealed(clients: NodeClients, chain: string, replicas: number): Promise<boolean> {
  const status = await firstChainStatus(clients, chain);
  return (
    status !== undefined &&
    status.leader !== 0 &&
    status.replicas.length === replicas &&
    status.replicas.every(
      (replica) => replica.healthy && replica.lag === 0 && replica.offset === status.commitOffset,
    )
  );
}

/** A stopped node's copy of the chain, read from its data directory: data records in offset order. */
export async function replicaCopy(dataDirectory: string, chain: string): Promise<ReplicaRecord[]> {
  const log = await openChainLog(new NodeDisk(), path.join(dataDirectory, 'chains', chain), {
    sync: { mode: 'batch' },
    retention: {},
    clock: new SystemClock(),
  });
  const records: ReplicaRecord[] = [];
  try {
    for (let offset = log.startOffset; offset < log.endOffset; ) {
      const entries = await log.read(offset, READ_BATCH_RECORDS, READ_BATCH_BYTES);
      for (const entry of entries) {
        if (entry.kind === 'data')
          records.push({ offset: entry.offset, value: new TextDecoder().decode(entry.payload) });
      }
      offset = (entries.at(-1)?.offset ?? offset) + 1;
    }
  } finally {
    await log.close();
  }
  return records;
}
