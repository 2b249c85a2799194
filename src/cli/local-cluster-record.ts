/**
 * `<data>/local-cluster.json`: what `meshos start-local` runs, rewritten whenever a node process
 * starts. `meshos demo failover` reads it to find the cluster's endpoints and the pid of the node
 * it kills; the launcher's own pid tells whether anyone still supervises the nodes.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InputProblems, MeshError } from '../lib/index.js';

export const LOCAL_CLUSTER_RECORD_FILE = 'local-cluster.json';
export const LOCAL_CLUSTER_RECORD_VERSION = 1;

export interface LocalNodeRecord {
  readonly id: number;
  /** The node process's pid; 0 while it is not running. */
  readonly pid: number;
  readonly client: string;
  readonly peer: string;
  readonly admin: string;
  readonly data: string;
}

export interface LocalClusterRecord {
  readonly version: number;
  /** The `start-local` process that runs (and restarts) the nodes. */
  readonly launcherPid: number;
  readonly clusterId: string;
  readonly nodes: readonly LocalNodeRecord[];
}

/** The record cannot be read: no local cluster was started with this data folder, or it is damaged. */
export class LocalClusterRecordError extends MeshError {
  constructor(file: string, reason: string) {
    super(
      'LOCAL_CLUSTER_UNKNOWN',
      `cannot read the local cluster's record ${file}: ${reason} (is \`npm start\` running with this data folder?)`,
      { details: { file, reason } },
    );
  }
}

export function localClusterRecordPath(root: string): string {
  return path.join(root, LOCAL_CLUSTER_RECORD_FILE);
}

/** Writes the record whole (a temporary file renamed over it), so a reader never sees half of it. */
export function writeLocalClusterRecord(root: string, record: LocalClusterRecord): void {
  const file = localClusterRecordPath(root);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temporary, file);
}

export function readLocalClusterRecord(root: string): LocalClusterRecord {
  const file = localClusterRecordPath(root);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LocalClusterRecordError(file, error instanceof Error ? error.message : String(error));
  }
  const problems = new InputProblems();
  if (problems.record('record', value)) {
    if (value.version !== LOCAL_CLUSTER_RECORD_VERSION)
      problems.add(`version must be ${LOCAL_CLUSTER_RECORD_VERSION}`);
    problems.integer('launcherPid', value.launcherPid, 1, Number.MAX_SAFE_INTEGER);
    problems.text('clusterId', value.clusterId);
    if (!Array.isArray(value.nodes) || value.nodes.length === 0)
      problems.add('nodes must be a non-empty list');
    else for (const [index, node] of value.nodes.entries()) nodeProblems(problems, `nodes[${index}]`, node);
  }
  if (problems.list.length > 0) throw new LocalClusterRecordError(file, problems.list.join('; '));
  return value as unknown as LocalClusterRecord;
}

function nodeProblems(problems: InputProblems, field: string, node: unknown): void {
  if (!problems.record(field, node)) return;
  problems.integer(`${field}.id`, node.id, 1, Number.MAX_SAFE_INTEGER);
  problems.integer(`${field}.pid`, node.pid, 0, Number.MAX_SAFE_INTEGER);
  for (const name of ['client', 'peer', 'admin', 'data']) problems.text(`${field}.${name}`, node[name]);
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processIsRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
