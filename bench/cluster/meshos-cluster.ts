import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ensureLocalCertificates,
  fetchStatus,
  type LocalNodePlan,
  mainScript,
  nodeArguments,
} from '../../src/cli/local-cluster.js';
import type { BenchCluster } from './bench-cluster.js';
import { probePut } from './etcd-cluster.js';
import { freePort, ManagedProcess, sleep } from './processes.js';

const STATUS_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 50;

export interface MeshosClusterOptions {
  readonly size?: number;
  /** Extra `node` flags for member `index` (e.g. `--cpu-prof`). */
  readonly nodeFlags?: (index: number) => readonly string[];
}

/**
 * Three `meshos start` processes on loopback as in production: mutual TLS between peers, the
 * write-ahead log fsynced, Raft's default timing. Clients speak plaintext gRPC, like etcd's here.
 */
export class MeshosCluster implements BenchCluster {
  readonly system = 'MeshOS';
  private readonly members: (ManagedProcess | undefined)[];

  private constructor(
    readonly root: string,
    private readonly plans: readonly LocalNodePlan[],
    private readonly options: MeshosClusterOptions,
  ) {
    this.members = plans.map(() => undefined);
  }

  static async create(options: MeshosClusterOptions = {}): Promise<MeshosCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bench-meshos-'));
    const plans: LocalNodePlan[] = [];
    for (let id = 1; id <= (options.size ?? 3); id++) {
      plans.push({
        id,
        client: `127.0.0.1:${await freePort()}`,
        peer: `127.0.0.1:${await freePort()}`,
        admin: `127.0.0.1:${await freePort()}`,
        data: path.join(root, `n${id}`),
      });
    }
    await ensureLocalCertificates(path.join(root, 'certs'), plans);
    return new MeshosCluster(root, plans, options);
  }

  get endpoints(): string[] {
    return this.plans.map((plan) => plan.client);
  }

  adminAddress(index: number): string {
    return this.plans[index]!.admin;
  }

  private launch(index: number): void {
    const plan = this.plans[index]!;
    const flags = this.options.nodeFlags?.(index) ?? [];
    this.members[index] = new ManagedProcess(
      `n${plan.id}`,
      process.execPath,
      [...flags, mainScript(), ...nodeArguments(plan, this.plans, path.join(this.root, 'certs'))],
      { ...process.env, MESHOS_LOG: 'warn' },
    );
  }

  async start(timeoutMs: number): Promise<void> {
    for (let index = 0; index < this.plans.length; index++) this.launch(index);
    await this.leaderIndex(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!(await probePut(this.endpoints, 1_000))) {
      if (Date.now() > deadline) throw new Error(`MeshOS accepts no write\n${this.describeOutput()}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async leaderIndex(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const runningIndexes = this.plans
        .map((_, index) => index)
        .filter((index) => this.members[index]?.alive);
      const statuses = await Promise.all(
        runningIndexes.map((index) => fetchStatus(this.plans[index]!.admin, STATUS_TIMEOUT_MS)),
      );
      const leaders = new Set(statuses.map((status) => Number(status?.leaderId ?? 0)));
      const [leader] = [...leaders];
      if (leaders.size === 1 && leader !== undefined && leader !== 0) {
        const index = this.plans.findIndex((plan) => plan.id === leader);
        if (runningIndexes.includes(index)) return index;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `MeshOS: no agreed leader within ${timeoutMs} ms; ${JSON.stringify(statuses)}\n${this.describeOutput()}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async kill(index: number): Promise<void> {
    await this.members[index]?.kill();
  }

  async restart(index: number, timeoutMs: number): Promise<void> {
    this.launch(index);
    await this.leaderIndex(timeoutMs);
  }

  pid(index: number): number | undefined {
    const member = this.members[index];
    return member?.alive === true ? member.pid : undefined;
  }

  /** Stops every member; keeps the data directory when `keepData` (e.g. for profiles). */
  async stop(keepData = false): Promise<void> {
    await Promise.all(this.members.map((member) => member?.stop()));
    if (!keepData) await rm(this.root, { recursive: true, force: true });
  }

  describeOutput(): string {
    return this.members.map((member) => member?.describe() ?? '').join('\n');
  }
}
