/**
 * What the chains bench needs from a replicated-log system, whichever it is (MeshOS chains or
 * NATS JetStream streams): a three-member cluster of processes holding logs with 3 replicas.
 */

/**
 * `batch`: an append is acknowledged once it is fsynced on every replica counted (MeshOS's
 * default). `interval`: acknowledged once written to the OS on a quorum, fsynced on a timer
 * (JetStream's only mode in 2.9; a chain's `interval` sync policy).
 */
export type ChainSyncMode = 'batch' | 'interval';

/**
 * Connections (or client channels) per member that the appenders share, the same for every
 * system: more than one per member made JetStream's client slower on this machine.
 */
export const APPENDER_CONNECTIONS_PER_MEMBER = 1;

/** The system cannot be measured here (e.g. its nodes do not serve logs): reported and skipped. */
export class SystemUnavailableError extends Error {}

/** One client of the load: at most one append in flight at a time. */
export interface ChainAppender {
  /** Resolves once the system acknowledged the record; rejects on error or timeout. */
  append(payload: Uint8Array, timeoutMs: number): Promise<void>;
}

export interface ChainReadResult {
  readonly records: number;
  readonly durationMs: number;
}

export interface ChainsSystem {
  /** Name and version, as the report shows it. */
  readonly label: string;
  /** The sync modes it offers, each with what it means there (for the report's notes). */
  readonly syncModes: ReadonlyMap<ChainSyncMode, string>;
  /** Starts every member and waits until the cluster accepts log creation. */
  start(timeoutMs: number): Promise<void>;
  /** Creates a log with 3 replicas, acknowledged by a quorum, in the given sync mode. */
  createChain(name: string, sync: ChainSyncMode, timeoutMs: number): Promise<void>;
  /** `count` appenders, their connections spread evenly over the members. */
  openAppenders(name: string, count: number): Promise<ChainAppender[]>;
  /**
   * Reads the log from its start to its end as of the call, or until `maxRecords` were read or
   * `maxDurationMs` passed.
   */
  read(name: string, maxRecords: number, maxDurationMs: number): Promise<ChainReadResult>;
  /** Index of the member leading the log. */
  leaderIndex(name: string, timeoutMs: number): Promise<number>;
  /** kill -9 of member `index`. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its data and waits until the log has all replicas back. */
  restart(index: number, name: string, timeoutMs: number): Promise<void>;
  /** Closes every connection and stops every member. Safe to call twice. */
  stop(): Promise<void>;
  /** The members' last output, for error messages. */
  describeOutput(): string;
}
