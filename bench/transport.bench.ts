import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  createClusterCa,
  createTcpTransport,
  issueNodeCertificate,
  loadTlsMaterial,
  PEER_SEND_QUEUE_MESSAGES,
  type PeerTransport,
  type TlsMaterial,
} from '../src/transport/index.js';
import type { BenchSuite } from './harness.js';

const PAYLOAD_BYTES = 256;
const MESSAGES_PER_RUN = 200_000;
const RUNS = 3;
/** A run that takes longer than this is abandoned: the figure would be meaningless anyway. */
const RUN_TIMEOUT_MS = 60_000;
const CLUSTER_ID = 'bench';

async function linkedPair(tls: { first: TlsMaterial; second: TlsMaterial } | undefined) {
  const make = (nodeId: number, material: TlsMaterial | undefined) =>
    createTcpTransport({
      nodeId,
      clusterId: CLUSTER_ID,
      listenAddress: { host: '127.0.0.1', port: 0 },
      ...(material === undefined ? { insecure: true } : { tls: material }),
    });
  const sender = make(1, tls?.first);
  const receiver = make(2, tls?.second);
  const receiverAddress = await receiver.start();
  await sender.start();
  const linked = new Promise<void>((resolve) => sender.onConnected(() => resolve()));
  sender.setPeers(new Map([[2, receiverAddress]]));
  await linked;
  return { sender, receiver };
}

/** Sends MESSAGES_PER_RUN payloads, keeping the send queue at most half full; returns messages/s. */
async function measure(sender: PeerTransport, receiver: PeerTransport): Promise<number> {
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('transport bench run timed out')), RUN_TIMEOUT_MS);
    receiver.onMessage(() => {
      received++;
      if (received === MESSAGES_PER_RUN) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const started = performance.now();
  let sent = 0;
  while (sent < MESSAGES_PER_RUN) {
    while (sent < MESSAGES_PER_RUN && sender.queuedMessages(2) < PEER_SEND_QUEUE_MESSAGES / 2) {
      if (!sender.send(2, payload)) throw new Error('a bench message was dropped');
      sent++;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await done;
  return MESSAGES_PER_RUN / ((performance.now() - started) / 1000);
}

/** Raft traffic is many small messages between two nodes: this is the transport's ceiling for it. */
export const suite: BenchSuite = {
  name: 'transport',
  async run(context) {
    const directory = await mkdtemp(path.join(tmpdir(), 'meshos-bench-transport-'));
    try {
      await createClusterCa(directory, CLUSTER_ID);
      await issueNodeCertificate(directory, 1);
      await issueNodeCertificate(directory, 2);
      const tls = { first: await loadTlsMaterial(directory, 1), second: await loadTlsMaterial(directory, 2) };
      for (const [label, material] of [
        ['plaintext', undefined],
        ['tls 1.3', tls],
      ] as const) {
        const rates: number[] = [];
        const result = await context.repeat(RUNS, async () => {
          const { sender, receiver } = await linkedPair(material);
          try {
            const rate = await measure(sender, receiver);
            rates.push(rate);
            return rate;
          } finally {
            await sender.stop();
            await receiver.stop();
          }
        });
        context.record({
          metric: `${label} ${PAYLOAD_BYTES} B messages, loopback`,
          median: result.median,
          unit: 'messages/s',
          samples: RUNS,
        });
        context.record({
          metric: `${label} ${PAYLOAD_BYTES} B payload throughput, loopback`,
          median: (result.median * PAYLOAD_BYTES) / 1e6,
          unit: 'MB/s',
          samples: RUNS,
        });
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  },
};
