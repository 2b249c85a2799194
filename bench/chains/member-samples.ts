/**
 * What the chain tools read from the members of a bench cluster: each member's CPU and peer
 * traffic counters (`/proc`, `/metrics`), and a chain created once the chains service places
 * replicas (right after start it may not know the other nodes yet).
 */
import type { MeshClient } from '../../src/client/index.js';
import type { MeshosCluster } from '../cluster/meshos-cluster.js';
import { cpuTimeMs, sleep } from '../cluster/processes.js';

export interface MemberSample {
  readonly cpuMs: number;
  /** Peer frames (socket writes) sent so far. */
  readonly frames: number;
  /** Peer messages sent so far. */
  readonly messages: number;
}

async function metric(cluster: MeshosCluster, member: number, name: string): Promise<number> {
  const text = (await cluster.metricsText(member)) ?? '';
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

export async function sampleMembers(cluster: MeshosCluster, members: number): Promise<MemberSample[]> {
  const samples: MemberSample[] = [];
  for (let member = 0; member < members; member++) {
    samples.push({
      cpuMs: await cpuTimeMs(cluster.pid(member) as number),
      frames: await metric(cluster, member, 'meshos_transport_sent_frames'),
      messages: await metric(cluster, member, 'meshos_transport_sent_messages'),
    });
  }
  return samples;
}

/** Creates a chain of `replicas` (acks quorum) through `client`, retrying until `timeoutMs`. */
export async function createBenchChain(
  client: MeshClient,
  name: string,
  options: {
    replicas: number;
    sync: 'interval' | 'batch';
    intervalMs: number;
    callTimeoutMs: number;
    timeoutMs: number;
  },
): Promise<void> {
  for (const deadline = Date.now() + options.timeoutMs; ; ) {
    try {
      await client.chains.create(name, {
        replicas: options.replicas,
        acks: 'quorum',
        sync:
          options.sync === 'batch' ? { mode: 'batch' } : { mode: 'interval', intervalMs: options.intervalMs },
        timeoutMs: options.callTimeoutMs,
      });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
