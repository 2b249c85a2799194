import { InputProblems, isNodeId, isRecord, MeshError, type NodeId, parseAddress } from '../lib/index.js';

/** A voter runs Raft, the KV and the etcd API; a worker reaches the control plane as a client. */
export type NodeRole = 'voter' | 'worker';
export const NODE_ROLES: readonly NodeRole[] = ['voter', 'worker'];

/** Longest node name, zone, version string and capacity resource name, in UTF-16 units. */
export const MAX_NODE_NAME_CHARACTERS = 128;
export const MAX_ZONE_CHARACTERS = 128;
export const MAX_VERSION_CHARACTERS = 64;
export const MAX_CAPACITY_RESOURCE_CHARACTERS = 64;
/** Resources a node may declare in its capacity. */
export const MAX_CAPACITY_RESOURCES = 16;

/** Host:port of each listener a node has; `client` is required of voters (older workers had none). */
export interface NodeAddresses {
  readonly peer: string;
  readonly client?: string;
  readonly admin: string;
}

/** What a node declares it can carry: resource name -> amount (cpus, memoryBytes, ...). */
export type NodeCapacity = Readonly<Record<string, number>>;

/** What a node publishes about itself under its lease in the control plane's nodes prefix. */
export interface NodeRecord {
  readonly id: NodeId;
  readonly name: string;
  readonly role: NodeRole;
  readonly addresses: NodeAddresses;
  readonly zone: string;
  readonly capacity: NodeCapacity;
  /** The MeshOS version the node runs. */
  readonly version: string;
  /** Wall-clock start time, ms since the epoch (for people; no logic depends on it). */
  readonly startedAt: number;
}

/** A registration record that is not one: wrong shape or a bad field. */
export class NodeRecordError extends MeshError {
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[]) {
    super('BAD_NODE_RECORD', `${subject} is not a valid node record: ${problems.join('; ')}`, {
      details: { problems },
    });
    this.problems = problems;
  }
}

/** Every problem with a record at once; empty when it is valid. */
export function nodeRecordProblems(value: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('record', value)) return problems.list;
  if (!isNodeId(value.id)) problems.add(`id must be a positive safe integer, got ${String(value.id)}`);
  boundedText(problems, 'name', value.name, MAX_NODE_NAME_CHARACTERS, false);
  problems.oneOf('role', value.role, NODE_ROLES);
  addressProblems(problems, value.addresses, value.role);
  boundedText(problems, 'zone', value.zone, MAX_ZONE_CHARACTERS, true);
  problems.addAll(capacityProblems(value.capacity));
  boundedText(problems, 'version', value.version, MAX_VERSION_CHARACTERS, false);
  problems.integer('startedAt', value.startedAt, 0, Number.MAX_SAFE_INTEGER);
  return problems.list;
}

/** Every problem with a capacity map (also used for the `--capacity` flag). */
export function capacityProblems(capacity: unknown): string[] {
  const problems = new InputProblems();
  if (!problems.record('capacity', capacity)) return problems.list;
  const entries = Object.entries(capacity);
  if (entries.length > MAX_CAPACITY_RESOURCES) {
    problems.add(`capacity names ${entries.length} resources, at most ${MAX_CAPACITY_RESOURCES}`);
  }
  for (const [resource, amount] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(resource) || resource.length > MAX_CAPACITY_RESOURCE_CHARACTERS) {
      problems.add(
        `capacity resource '${resource}' must be a name of letters, digits, _ . - (at most ${MAX_CAPACITY_RESOURCE_CHARACTERS})`,
      );
    }
    problems.integer(`capacity.${resource}`, amount, 0, Number.MAX_SAFE_INTEGER);
  }
  return problems.list;
}

function addressProblems(problems: InputProblems, addresses: unknown, role: unknown): void {
  if (!problems.record('addresses', addresses)) return;
  for (const field of ['peer', 'admin', 'client'] as const) {
    const address = addresses[field];
    if (field === 'client' && address === undefined) {
      if (role === 'voter') problems.add('addresses.client is required for a voter');
      continue;
    }
    if (typeof address !== 'string') {
      problems.add(`addresses.${field} must be host:port, got ${typeof address}`);
      continue;
    }
    try {
      parseAddress(address);
    } catch (error) {
      problems.add(`addresses.${field}: ${(error as Error).message}`);
    }
  }
}

function boundedText(
  problems: InputProblems,
  field: string,
  value: unknown,
  maxCharacters: number,
  emptyAllowed: boolean,
): void {
  if (typeof value !== 'string' || (!emptyAllowed && value.length === 0) || value.length > maxCharacters) {
    problems.add(
      `${field} must be a ${emptyAllowed ? '' : 'non-empty '}string of at most ${maxCharacters} characters, got ${typeof value === 'string' ? `${value.length} characters` : typeof value}`,
    );
  }
}

/** Throws BAD_NODE_RECORD listing every problem. */
export function validateNodeRecord(record: NodeRecord): void {
  const problems = nodeRecordProblems(record);
  if (problems.length > 0) throw new NodeRecordError(`node ${record.id}'s record`, problems);
}

/**
 * Reads a registration record parsed from the control plane (fields it does not know are
 * dropped, so a newer node's record still reads); anything else is BAD_NODE_RECORD.
 */
export function readNodeRecord(value: unknown): NodeRecord {
  const problems = nodeRecordProblems(value);
  if (problems.length > 0 || !isRecord(value)) throw new NodeRecordError('the stored record', problems);
  const record = value as unknown as NodeRecord;
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    addresses: {
      peer: record.addresses.peer,
      admin: record.addresses.admin,
      ...(record.addresses.client === undefined ? {} : { client: record.addresses.client }),
    },
    zone: record.zone,
    capacity: { ...record.capacity },
    version: record.version,
    startedAt: record.startedAt,
  };
}
