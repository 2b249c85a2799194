/**
 * A real replicated three-node MeshOS cluster for the conformance tests: three `MeshNode`s in
 * this process, talking Raft over TCP on loopback, with their data in a temporary directory.
 * One per test file (start it in `beforeAll`); clients reach each node's etcd API port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Address, formatAddress } from '../../src/lib/index.js';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import { MeshNode } from '../../src/mesh/index.js';
import { until } from '../support/until.js';

export { until };

const NODE_IDS = [1, 2, 3] as const;
/** Longest the cluster may take to elect a leader and have every node apply up to it. */
export const CLUSTER_READY_TIMEOUT_MS = 20_000;

export interface ConformanceCluster {
  readonly nodes: readonly MeshNode[];
  /** Each node's etcd API address, host:port, in node id order. */
  readonly addresses: readonly string[];
  /** The same, as users write endpoints. */
  readonly urls: readonly string[];
  /** The current leader (waits for one if an election is under way). */
  leader(): Promise<MeshNode>;
  /** A node that is not the current leader. */
  follower(): Promise<MeshNode>;
  address(node: MeshNode): string;
  close(): Promise<void>;
}

export async function startConformanceCluster(
  name: string,
  options: {
    readonly quotaBackendBytes?: number;
    readonly proximity?: boolean;
    readonly snapshotCount?: number;
  } = {},
): Promise<ConformanceCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), `meshos-${name}-`));
  const peers = new Map<number, Address>();
  for (const id of NODE_IDS) peers.set(id, { host: '127.0.0.1', port: await findFreeLoopbackPort() });
  const nodes = await Promise.all(
    NODE_IDS.map((id) =>
      MeshNode.start({
        id,
        name: `${name}-${id}`,
        clusterId: name,
        dataDirectory: path.join(root, `n${id}`),
        peerAddress: peers.get(id)!,
        clientAddress: { host: '127.0.0.1', port: 0 },
        adminAddress: { host: '127.0.0.1', port: 0 },
        initialPeers: peers,
        insecure: true,
        // These suites check etcd's wire semantics down to exact revisions; the proximity rows
        // every node rewrites each few seconds would interleave writes of their own. The suites
        // that run the mesh's services whole (test/cluster) keep proximity on.
        proximity: false,
        ...options,
      }),
    ),
  );
  await Promise.all(nodes.map((node) => node.raft.waitReady(CLUSTER_READY_TIMEOUT_MS)));
  const address = (node: MeshNode): string => formatAddress(node.endpoints.client);
  const leader = async (): Promise<MeshNode> => {
    await until(() => nodes.some((node) => node.isLeader()), 'a leader');
    return nodes.find((node) => node.isLeader()) ?? leader();
  };
  const addresses = nodes.map(address);
  return {
    nodes,
    addresses,
    urls: addresses.map((entry) => `http://${entry}`),
    leader,
    async follower() {
      const current = await leader();
      return nodes.find((node) => node !== current)!;
    },
    address,
    async close() {
      for (const node of nodes) await node.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
