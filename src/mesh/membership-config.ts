import { type Address, InputProblems, ValidationError } from '../lib/index.js';
import type { ClientPortTlsFiles } from './client-tls-files.js';
import { commonNodeConfigProblems } from './common-node-config.js';
import { capacityProblems, MAX_ZONE_CHARACTERS, type NodeCapacity } from './node-record.js';

/** A node that misses keep-alives for this long is gone from the mesh (`--node-lease-ttl`). */
export const DEFAULT_NODE_LEASE_TTL_SECONDS = 5;
/**
 * Bounds of the node lease TTL. Below 2 s one slow keep-alive round (a GC pause, a leader
 * election: 1-2 s) would drop a healthy node; above an hour a dead node lingers for an hour.
 */
export const MIN_NODE_LEASE_TTL_SECONDS = 2;
export const MAX_NODE_LEASE_TTL_SECONDS = 3_600;
/** Most control-plane endpoints a worker is given. */
export const MAX_CONTROL_PLANE_ENDPOINTS = 64;

/** How a node registers itself in the mesh; voters and workers alike. */
export interface MembershipConfig {
  /** Failure domain (rack, availability zone); empty when not given. */
  readonly zone: string;
  readonly capacity: NodeCapacity;
  readonly leaseTtlSeconds: number;
}

/** A worker: no Raft; it reaches the control plane (MeshOS voters or an etcd cluster) as a client. */
export interface WorkerNodeConfig {
  /** Human name; `w<id>` once the id is known when unset. */
  readonly name?: string;
  /** The mesh's name, checked in every peer handshake; equal to the voters' `--cluster`. */
  readonly clusterId: string;
  readonly dataDirectory: string;
  readonly peerAddress: Address;
  /** Serves MeshOS's gRPC services (`meshos.v1.Chains`) to clients; etcd's are the voters'. */
  readonly clientAddress: Address;
  readonly adminAddress: Address;
  /** host:port of the control plane's etcd v3 endpoints. */
  readonly controlPlaneEndpoints: readonly string[];
  /** TLS to the control plane (an https etcd); plaintext without it. */
  readonly controlPlaneTls?: ControlPlaneTlsFiles;
  /** The etcd user the worker acts as on the control plane (auth on); anonymous without it. */
  readonly controlPlaneCredentials?: ControlPlaneCredentialFiles;
  readonly membership: MembershipConfig;
  /** `ca.pem`, and `ca-key.pem` to issue this node's certificate once its id is allocated. */
  readonly certificateDirectory?: string;
  readonly insecure: boolean;
  /** TLS on the client port (`--cert-file`, `--key-file`, ...); plaintext without it. */
  readonly clientTls?: ClientPortTlsFiles;
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

/** PEM files of TLS to the control plane, read each time the worker opens it (so renewed files apply). */
export interface ControlPlaneTlsFiles {
  /** CA certificate the control plane's endpoints are checked against. */
  readonly caFile: string;
  /** Client certificate and key, for a control plane that requires client certificates. */
  readonly certificateFile?: string;
  readonly keyFile?: string;
}

/** `--control-plane-user` and the file its password is read from each time the worker opens the control plane. */
export interface ControlPlaneCredentialFiles {
  readonly user: string;
  readonly passwordFile: string;
}

/** Every problem with membership settings at once. */
export function membershipConfigProblems(config: MembershipConfig): string[] {
  const problems = new InputProblems();
  if (typeof config.zone !== 'string' || config.zone.length > MAX_ZONE_CHARACTERS) {
    problems.add(`zone must be a string of at most ${MAX_ZONE_CHARACTERS} characters`);
  }
  problems.integer(
    'leaseTtlSeconds',
    config.leaseTtlSeconds,
    MIN_NODE_LEASE_TTL_SECONDS,
    MAX_NODE_LEASE_TTL_SECONDS,
  );
  problems.addAll(capacityProblems(config.capacity));
  return problems.list;
}

/** Every problem with a worker's settings at once (VALIDATION_FAILED). */
export function validateWorkerNodeConfig(config: WorkerNodeConfig): void {
  const problems = new InputProblems();
  if (config.clusterId.length === 0) problems.add('clusterId must not be empty');
  if (config.dataDirectory.length === 0) problems.add('dataDirectory must not be empty');
  const endpoints = config.controlPlaneEndpoints;
  if (endpoints.length === 0) problems.add('controlPlaneEndpoints: at least one host:port is needed');
  if (endpoints.length > MAX_CONTROL_PLANE_ENDPOINTS) {
    problems.add(`controlPlaneEndpoints: at most ${MAX_CONTROL_PLANE_ENDPOINTS}, got ${endpoints.length}`);
  }
  for (const endpoint of endpoints) {
    if (!/^[^\s/,]+:\d{1,5}$/.test(endpoint))
      problems.add(`controlPlaneEndpoints: '${endpoint}' is not host:port`);
  }
  if (!config.insecure && config.certificateDirectory === undefined) {
    problems.add('give a certificate directory (meshos certs init), or --insecure for plaintext on loopback');
  }
  problems.addAll(commonNodeConfigProblems(config));
  problems.nested('membership', membershipConfigProblems(config.membership));
  if (problems.list.length > 0) throw new ValidationError('worker configuration', problems.list);
}
