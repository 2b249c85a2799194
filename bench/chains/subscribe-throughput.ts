/**
 * Subscribe throughput on loopback: one in-process voter (its real chains service and client
 * port), one chain with one replica, `RECORDS` records of `RECORD_BYTES` appended first; then
 * `client.chains.subscribe` from offset 0 until every record has arrived, timed. The figure is
 * the wire and iteration cost of Subscribe (the records are committed and on disk before it
 * starts). Run: `npm run build && node dist/bench/chains/subscribe-throughput.js [records]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { MeshClient } from '../../src/client/index.js';
import { type Address, formatAddress } from '../../src/lib/index.js';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import { NodeBuilder } from '../../src/mesh/index.js';
import { wholeNumberFlag } from '../flags.js';

const RECORD_BYTES = 256;
const DEFAULT_RECORDS = 100_000;
/** Most records a run may ask for (2.56 GB of records). */
const MAX_RECORDS = 10_000_000;
const APPEND_BATCH_RECORDS = 1_000;
const READY_TIMEOUT_MS = 30_000;
/** Deadline of each client call (create, each batch of appends). */
const CALL_TIMEOUT_MS = 10_000;
const ROUNDS = 3;

async function main(): Promise<void> {
  const records = wholeNumberFlag('records', process.argv[2], DEFAULT_RECORDS, 1, MAX_RECORDS);
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-subscribe-bench-'));
  const peerAddress: Address = { host: '127.0.0.1', port: await findFreeLoopbackPort() };
  const node = await new NodeBuilder({
    id: 1,
    name: 'n1',
    clusterId: 'subscribe-bench',
    dataDirectory: path.join(root, 'n1'),
    peerAddress,
    clientAddress: { host: '127.0.0.1', port: 0 },
    adminAddress: { host: '127.0.0.1', port: 0 },
    initialPeers: new Map([[1, peerAddress]]),
    insecure: true,
    proximity: false,
  }).start();
  const client = await MeshClient.connect({
    endpoints: [formatAddress(node.endpoints.client)],
    timeoutMs: CALL_TIMEOUT_MS,
  });
  try {
    await node.waitReady(READY_TIMEOUT_MS);
    await client.chains.create('bench', {
      replicas: 1,
      acks: 'one',
      sync: { mode: 'interval', intervalMs: 1_000 },
    });
    const payload = new Uint8Array(RECORD_BYTES).fill(7);
    for (let written = 0; written < records; written += APPEND_BATCH_RECORDS) {
      const count = Math.min(APPEND_BATCH_RECORDS, records - written);
      await client.chains.append(
        'bench',
        Array.from({ length: count }, () => payload),
      );
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const startedNs = process.hrtime.bigint();
      let received = 0;
      const subscription = client.chains.subscribe('bench');
      for await (const _record of subscription) {
        received += 1;
        if (received === records) break;
      }
      const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
      console.log(
        `round ${round}: ${records} records of ${RECORD_BYTES} B in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`,
      );
    }
  } finally {
    client.close();
    await node.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
