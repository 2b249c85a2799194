/** What the suite needs from a three-member cluster, whichever system runs it. */
export interface BenchCluster {
  readonly system: string;
  /** Client (etcd v3 gRPC, plaintext) endpoints, host:port, one per member. */
  readonly endpoints: readonly string[];
  /** Starts every member and waits until they agree on a leader and accept a write. */
  start(timeoutMs: number): Promise<void>;
  /** Index (into `endpoints`) of the member every running member names as leader. */
  leaderIndex(timeoutMs: number): Promise<number>;
  /** kill -9 of member `index`. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its old data and waits until all members agree on a leader. */
  restart(index: number, timeoutMs: number): Promise<void>;
  /** SIGSTOP (`paused`) or SIGCONT of member `index`. */
  setPaused(index: number, paused: boolean): void;
  /** The highest Raft term the running members report (those that do not answer are skipped). */
  raftTerm(): Promise<number>;
  /** Process id of member `index`, when running. */
  pid(index: number): number | undefined;
  /** Stops every member (SIGTERM, then SIGKILL of the group). Safe to call twice. */
  stop(): Promise<void>;
  describeOutput(): string;
}
