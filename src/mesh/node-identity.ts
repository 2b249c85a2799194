import * as path from 'node:path';
import { type Address, type Disk, MeshError, type NodeId } from '../lib/index.js';
import { NODE_ROLES, type NodeRole } from './node-record.js';

/** What a node must remember about itself across restarts, beside its Raft data. */
export interface NodeIdentity {
  readonly id: NodeId;
  readonly name: string;
  readonly clusterId: string;
  /** The voters the cluster was created with, and their peer addresses. */
  readonly initialPeers: ReadonlyArray<readonly [NodeId, Address]>;
  /** Absent in directories written before workers existed: those are voters'. */
  readonly role?: NodeRole;
}

const IDENTITY_FILE = 'node.json';

export class IdentityMismatchError extends MeshError {
  constructor(field: string, stored: unknown, given: unknown) {
    super(
      'IDENTITY_MISMATCH',
      `the data directory belongs to a node with ${field} ${JSON.stringify(stored)}, not ${JSON.stringify(given)}`,
      { details: { field, stored, given } },
    );
  }
}

/** The identity file is not JSON of an identity's shape: the node refuses to start on it. */
export class IdentityCorruptError extends MeshError {
  constructor(file: string, reason: string) {
    super('IDENTITY_CORRUPT', `the node identity file ${file} is damaged: ${reason}`, {
      details: { file, reason },
    });
  }
}

/**
 * Reads the identity kept in the data directory, or writes `given` there on first start
 * (atomically: temp file, sync, rename, directory sync). A directory of another node or
 * cluster is refused rather than silently reused.
 */
export async function loadOrCreateIdentity(
  disk: Disk,
  directory: string,
  given: NodeIdentity,
): Promise<NodeIdentity> {
  const stored = await readIdentity(disk, directory);
  if (stored !== undefined) {
    if (stored.id !== given.id) throw new IdentityMismatchError('id', stored.id, given.id);
    checkIdentity(stored, given.clusterId, given.role ?? 'voter');
    return stored;
  }
  const file = path.join(directory, IDENTITY_FILE);
  await disk.makeDirectory(directory);
  const temporary = `${file}.tmp`;
  const handle = await disk.open(temporary, 'create');
  await handle.append(new TextEncoder().encode(`${JSON.stringify(given, null, 2)}\n`));
  await handle.datasync();
  await handle.close();
  await disk.rename(temporary, file);
  await disk.fsyncDirectory(directory);
  return given;
}

/** The identity kept in `directory`, or undefined when the node never started there. */
export async function readIdentity(disk: Disk, directory: string): Promise<NodeIdentity | undefined> {
  const file = path.join(directory, IDENTITY_FILE);
  if (!(await disk.exists(file))) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await disk.readFile(file)));
  } catch (error) {
    throw new IdentityCorruptError(file, error instanceof Error ? error.message : String(error));
  }
  const problem = identityProblem(value);
  if (problem !== undefined) throw new IdentityCorruptError(file, problem);
  return value as NodeIdentity;
}

const isNodeId = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0;

/** What is wrong with a parsed identity file, or undefined when it has an identity's shape. */
function identityProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const identity = value as Record<string, unknown>;
  if (!isNodeId(identity.id)) return 'id is not a positive integer';
  if (typeof identity.name !== 'string') return 'name is not a string';
  if (typeof identity.clusterId !== 'string') return 'clusterId is not a string';
  if (identity.role !== undefined && !NODE_ROLES.includes(identity.role as NodeRole)) {
    return `unknown role ${JSON.stringify(identity.role)}`;
  }
  if (!Array.isArray(identity.initialPeers)) return 'initialPeers is not a list';
  for (const peer of identity.initialPeers as unknown[]) {
    const [id, address] = Array.isArray(peer) ? peer : [];
    const { host, port } = (typeof address === 'object' && address !== null ? address : {}) as Record<
      string,
      unknown
    >;
    if (!isNodeId(id) || typeof host !== 'string' || !Number.isSafeInteger(port)) {
      return 'initialPeers holds an entry that is not [id, {host, port}]';
    }
  }
  return undefined;
}

/** Refuses a stored identity of another cluster or role (a voter's directory given to a worker). */
export function checkIdentity(stored: NodeIdentity, clusterId: string, role: NodeRole): void {
  if (stored.clusterId !== clusterId)
    throw new IdentityMismatchError('cluster id', stored.clusterId, clusterId);
  const storedRole = stored.role ?? 'voter';
  if (storedRole !== role) throw new IdentityMismatchError('role', storedRole, role);
}
