import { rm } from 'node:fs/promises';
import type { BenchCluster } from './bench-cluster.js';
import { KvChannels } from './kv-channels.js';
import type { ManagedProcess } from './processes.js';
import { sleep } from './processes.js';

const POLL_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 1_000;

/**
 * A cluster of member processes in a temporary folder: starting, waiting for a leader,
 * killing and restarting members are the same for every system; how a member is launched
 * and how its leader is read differ.
 */
export abstract class ProcessBenchCluster implements BenchCluster {
  abstract readonly system: string;
  abstract readonly endpoints: readonly string[];
  protected readonly members: (ManagedProcess | undefined)[];

  protected constructor(
    readonly root: string,
    readonly size: number,
  ) {
    this.members = Array.from({ length: size }, () => undefined);
  }

  /** Starts member `index` (again) on its data directory. */
  protected abstract launch(index: number): ManagedProcess;

  /** The index of the leader every running member names, or undefined while they disagree. */
  protected abstract agreedLeader(running: readonly number[]): Promise<{ index?: number; detail: string }>;

  /** Raft term member `index` reports, or undefined when it does not answer in time. */
  protected abstract memberTerm(index: number): Promise<number | undefined>;

  async raftTerm(): Promise<number> {
    const running = this.members.flatMap((member, index) => (member?.alive ? [index] : []));
    const terms = await Promise.all(running.map((index) => this.memberTerm(index)));
    return Math.max(0, ...terms.filter((term): term is number => term !== undefined));
  }

  setPaused(index: number, paused: boolean): void {
    this.members[index]?.setPaused(paused);
  }

  async start(timeoutMs: number): Promise<void> {
    for (let index = 0; index < this.size; index++) this.members[index] = this.launch(index);
    await this.leaderIndex(timeoutMs);
    this.requireAllAlive('after the first election');
    const deadline = Date.now() + timeoutMs;
    while (!(await this.acceptsWrite(PROBE_TIMEOUT_MS))) {
      if (Date.now() > deadline) throw new Error(`${this.system} accepts no write\n${this.describeOutput()}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** True once the cluster takes a write (an etcd Put by default; other systems say their own). */
  protected acceptsWrite(timeoutMs: number): Promise<boolean> {
    return probePut(this.endpoints, timeoutMs);
  }

  async leaderIndex(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.members.flatMap((member, index) => (member?.alive ? [index] : []));
      const { index, detail } = await this.agreedLeader(running);
      if (index !== undefined && running.includes(index)) return index;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.system}: no agreed leader within ${timeoutMs} ms; ${detail}\n${this.describeOutput()}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async kill(index: number): Promise<void> {
    await this.members[index]?.kill();
  }

  async restart(index: number, timeoutMs: number): Promise<void> {
    this.members[index] = this.launch(index);
    await this.leaderIndex(timeoutMs);
  }

  pid(index: number): number | undefined {
    const member = this.members[index];
    return member?.alive === true ? member.pid : undefined;
  }

  /** Stops every member; keeps the data folder when `keepData` (e.g. for profiles). */
  async stop(keepData = false): Promise<void> {
    await Promise.all(this.members.map((member) => member?.stop()));
    if (!keepData) await rm(this.root, { recursive: true, force: true });
  }

  /**
   * Throws when a member has exited: a leader agreed among the members still running hides a
   * member that died (a port taken between picking it and binding it, a crash), and every figure
   * measured on two members would be wrong.
   */
  requireAllAlive(when: string): void {
    const dead = this.members.flatMap((member, index) => (member?.alive === true ? [] : [index + 1]));
    if (dead.length > 0)
      throw new Error(
        `${this.system}: member ${dead.join(', ')} not running ${when}\n${this.describeOutput()}`,
      );
  }

  describeOutput(): string {
    return this.members.map((member) => member?.describe() ?? '').join('\n');
  }
}

/** One Put through any of `endpoints`; true when one of them accepted it. */
export async function probePut(endpoints: readonly string[], timeoutMs: number): Promise<boolean> {
  const channels = new KvChannels(endpoints, 1);
  try {
    for (let index = 0; index < channels.size; index++) {
      try {
        await channels.call(
          index,
          'Put',
          { key: Buffer.from('bench/probe'), value: Buffer.from('1') },
          timeoutMs,
        );
        return true;
      } catch {
        // Try the next member.
      }
    }
    return false;
  } finally {
    channels.close();
  }
}
