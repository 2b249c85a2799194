import * as path from 'node:path';
import { MAX_QUOTA_BACKEND_BYTES } from '../kv/index.js';

/**
 * Most entries `--snapshot-count` may put between snapshots: the log since the last snapshot is
 * kept in memory (some 0.5 KB an entry for small puts), so more would let it reach gigabytes.
 */
export const MAX_SNAPSHOT_COUNT = 10_000_000;

import {
  type Address,
  formatAddress,
  isNodeId,
  type NodeId,
  nodeIdFromText,
  parseAddress,
  ValidationError,
} from '../lib/index.js';
import { type AutoCompactionConfig, autoCompactionProblems } from '../server/index.js';
import type { ClientPortTlsFiles } from './client-tls-files.js';
import { commonNodeConfigProblems } from './common-node-config.js';
import { type MembershipConfig, membershipConfigProblems } from './membership-config.js';

/** One node's settings, as given on the command line or by the local-cluster launcher. */
export interface MeshNodeConfig {
  readonly id: NodeId;
  readonly name: string;
  readonly clusterId: string;
  readonly dataDirectory: string;
  /** Where peers reach this node (Raft traffic). */
  readonly peerAddress: Address;
  /** The etcd v3 gRPC API for clients. */
  readonly clientAddress: Address;
  /** Metrics, health and readiness over HTTP. */
  readonly adminAddress: Address;
  /** Peer addresses of the initial voters, this node included; empty when joining as a learner. */
  readonly initialPeers: ReadonlyMap<NodeId, Address>;
  /** Peer addresses known before the member directory replicates (a joining node's view of the cluster). */
  readonly seedPeers?: ReadonlyMap<NodeId, Address>;
  /** Directory with `ca.pem` and this node's certificate; absent only with `insecure`. */
  readonly certificateDirectory?: string;
  readonly insecure: boolean;
  /** TLS on the client port (`--cert-file`, `--key-file`, ...); plaintext without it. */
  readonly clientTls?: ClientPortTlsFiles;
  /**
   * Write and fdatasync the write-ahead log on Node's thread pool instead of inline on the
   * event loop. Inline is faster on a local SSD (no event-loop round trip per write); the pool
   * keeps the node responsive when fsync takes milliseconds (network or spinning disks).
   */
  readonly walOnThreadPool?: boolean;
  readonly tickIntervalMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Space quota in bytes (`--quota-backend-bytes`); etcd's 2 GiB if unset. */
  readonly quotaBackendBytes?: number;
  /** History compaction on the leader (`--auto-compaction-mode/-retention`); off if unset. */
  readonly autoCompaction?: AutoCompactionConfig;
  /** Applied entries between snapshots (`--snapshot-count`); `DEFAULT_SNAPSHOT_EVERY_ENTRIES` if unset. */
  readonly snapshotCount?: number;
  /** How the node registers in the mesh's nodes prefix (zone, capacity, lease TTL); defaults if unset. */
  readonly membership?: MembershipConfig;
  /**
   * Run the proximity service (pings, the row in `proximity/<id>`, the matrix); on unless false.
   * Off only where no background writes may reach the store (a test of a tiny space quota).
   */
  readonly proximity?: boolean;
  /** Absolute paths of `--daemon-module` files whose exported kinds this node runs (docs/DAEMONS.md). */
  readonly daemonModules?: readonly string[];
  /** `--chain-repair-grace-ms`: a node gone this long has its chain replicas replaced (default 60 s). */
  readonly chainRepairGraceMs?: number;
  /** `--daemon-repair-grace-ms`: a member whose node is gone this long is replaced (default 60 s). */
  readonly daemonRepairGraceMs?: number;
  /** `--blob-orphan-grace-ms`: a copy no blob record names is deleted after this long (default 10 min). */
  readonly blobOrphanGraceMs?: number;
  /** `--daemon-checkpoint-events`: a member checkpoints every this many records (default 1,000). */
  readonly daemonCheckpointEvents?: number;
  /** `--chain-segment-bytes`: chain logs on this node seal a segment at this size (default 16 MiB). */
  readonly chainSegmentBytes?: number;
}

/** Parses `1=127.0.0.1:2380,2=127.0.0.1:2381` into ids and addresses. */
export function parsePeerList(text: string): Map<NodeId, Address> {
  const peers = new Map<NodeId, Address>();
  const problems: string[] = [];
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)) {
    const [idText, addressText] = item.split('=');
    const id = nodeIdFromText(idText ?? '');
    if (id === undefined || addressText === undefined) {
      problems.push(`'${item}' is not id=host:port`);
      continue;
    }
    try {
      peers.set(id, parseAddress(addressText));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new ValidationError('peer list', problems);
  return peers;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * Milliseconds of a duration as operators write it (`1500ms`, `30s`, `5m`, `1h`; a bare number
 * is in `bareUnit`), rounded; undefined when `text` is not one.
 */
export function durationMs(text: string, bareUnit: keyof typeof DURATION_UNIT_MS): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  return Math.round(
    Number(match[1]) * DURATION_UNIT_MS[(match[2] as keyof typeof DURATION_UNIT_MS | undefined) ?? bareUnit],
  );
}

/**
 * etcd's `--auto-compaction-mode` and `--auto-compaction-retention`: for `periodic` a duration
 * (`30s`, `5m`, `1h`; a bare number is hours, as in etcd), for `revision` a number of revisions.
 * A retention of 0 turns auto-compaction off (undefined).
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompactionConfig | undefined {
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new ValidationError('auto-compaction', [`mode must be 'periodic' or 'revision', got '${mode}'`]);
  }
  let amount: number;
  if (mode === 'revision') {
    amount = /^\d+$/.test(retention) ? Number(retention) : Number.NaN;
  } else {
    amount = durationMs(retention, 'h') ?? Number.NaN;
  }
  const config = { mode, retention: amount } as const;
  const problems = Number.isNaN(amount)
    ? [
        `retention '${retention}' is not ${mode === 'revision' ? 'a whole number' : 'a duration like 30s, 5m or 1h'}`,
      ]
    : autoCompactionProblems(config);
  if (problems.length > 0) throw new ValidationError('auto-compaction', problems);
  return amount === 0 ? undefined : config;
}

export function formatPeerList(peers: ReadonlyMap<NodeId, Address>): string {
  return [...peers].map(([id, address]) => `${id}=${formatAddress(address)}`).join(',');
}

/** Every problem with a node's settings at once. */
export function validateMeshNodeConfig(config: MeshNodeConfig): void {
  const problems: string[] = [];
  if (!isNodeId(config.id)) problems.push(`id must be a node id (a positive safe integer), got ${config.id}`);
  if (config.clusterId.length === 0) problems.push('clusterId must not be empty');
  if (config.dataDirectory.length === 0) problems.push('dataDirectory must not be empty');
  if (config.initialPeers.size > 0 && !config.initialPeers.has(config.id)) {
    problems.push(`the initial peers must include this node (${config.id})`);
  }
  if (!config.insecure && config.certificateDirectory === undefined) {
    problems.push(
      'give a certificate directory (meshos certs init/issue), or --insecure for plaintext on loopback',
    );
  }
  problems.push(...commonNodeConfigProblems(config));
  const quota = config.quotaBackendBytes;
  if (
    quota !== undefined &&
    (!Number.isSafeInteger(quota) || quota <= 0 || quota > MAX_QUOTA_BACKEND_BYTES)
  ) {
    problems.push(`quotaBackendBytes must be an integer from 1 to ${MAX_QUOTA_BACKEND_BYTES}, got ${quota}`);
  }
  const snapshotCount = config.snapshotCount;
  if (
    snapshotCount !== undefined &&
    (!Number.isSafeInteger(snapshotCount) || snapshotCount < 1 || snapshotCount > MAX_SNAPSHOT_COUNT)
  ) {
    problems.push(`snapshotCount must be an integer from 1 to ${MAX_SNAPSHOT_COUNT}, got ${snapshotCount}`);
  }
  if (config.autoCompaction !== undefined) {
    problems.push(
      ...autoCompactionProblems(config.autoCompaction).map((problem) => `autoCompaction: ${problem}`),
    );
  }
  if (config.membership !== undefined) {
    problems.push(...membershipConfigProblems(config.membership).map((problem) => `membership.${problem}`));
  }
  if (problems.length > 0) throw new ValidationError('node configuration', problems);
}

export function raftDirectory(config: Pick<MeshNodeConfig, 'dataDirectory'>): string {
  return path.join(config.dataDirectory, 'raft');
}
