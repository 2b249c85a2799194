import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { etcdServices, type PbStatusResponse } from '../../src/api/proto.js';
import type { BenchCluster } from './bench-cluster.js';
import { KvChannels } from './kv-channels.js';
import { freePort, ManagedProcess, sleep } from './processes.js';

/** The etcd binary; Debian's etcd-server package puts it on the PATH. */
export const ETCD_BINARY = process.env.ETCD_BINARY ?? 'etcd';
const STATUS_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 100;

interface EtcdMemberPlan {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly data: string;
}

type StatusMethod = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: PbStatusResponse) => void,
) => void;

/** Asks one member for its status; undefined when it does not answer in time. */
export function etcdStatus(
  endpoint: string,
  timeoutMs = STATUS_TIMEOUT_MS,
): Promise<PbStatusResponse | undefined> {
  const Constructor = grpc.makeGenericClientConstructor(etcdServices().maintenance, 'Maintenance');
  const client = new Constructor(endpoint, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  return new Promise((resolve) => {
    const status = (client as unknown as Record<string, StatusMethod>).Status!;
    status.call(client, {}, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
      client.close();
      resolve(error ? undefined : response);
    });
  });
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

/**
 * Three etcd members on loopback, plaintext, with etcd's default timing (heartbeat 100 ms,
 * election 1000 ms) and its default fsync behaviour.
 */
export class EtcdCluster implements BenchCluster {
  readonly system = 'etcd';
  private readonly members: (ManagedProcess | undefined)[];

  private constructor(
    private readonly root: string,
    private readonly plans: readonly EtcdMemberPlan[],
  ) {
    this.members = plans.map(() => undefined);
  }

  static async create(size = 3): Promise<EtcdCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bench-etcd-'));
    const plans: EtcdMemberPlan[] = [];
    for (let index = 0; index < size; index++) {
      plans.push({
        name: `e${index + 1}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        data: path.join(root, `e${index + 1}`),
      });
    }
    return new EtcdCluster(root, plans);
  }

  get endpoints(): string[] {
    return this.plans.map((plan) => `127.0.0.1:${plan.clientPort}`);
  }

  private launch(index: number): void {
    const plan = this.plans[index]!;
    const initialCluster = this.plans
      .map((other) => `${other.name}=http://127.0.0.1:${other.peerPort}`)
      .join(',');
    this.members[index] = new ManagedProcess(plan.name, ETCD_BINARY, [
      '--name',
      plan.name,
      '--data-dir',
      plan.data,
      '--listen-client-urls',
      `http://127.0.0.1:${plan.clientPort}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${plan.clientPort}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${plan.peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${plan.peerPort}`,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-token',
      'bench-etcd',
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      '--log-level',
      'warn',
    ]);
  }

  async start(timeoutMs: number): Promise<void> {
    for (let index = 0; index < this.plans.length; index++) this.launch(index);
    await this.leaderIndex(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!(await probePut(this.endpoints, 1_000))) {
      if (Date.now() > deadline) throw new Error(`etcd accepts no write\n${this.describeOutput()}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async leaderIndex(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const runningIndexes = this.plans
        .map((_, index) => index)
        .filter((index) => this.members[index]?.alive);
      const statuses = await Promise.all(runningIndexes.map((index) => etcdStatus(this.endpoints[index]!)));
      const leaders = new Set(statuses.map((status) => status?.leader ?? '0'));
      const [leader] = [...leaders];
      if (leaders.size === 1 && leader !== undefined && leader !== '0') {
        const position = statuses.findIndex((status) => status?.header.member_id === leader);
        const index = runningIndexes[position];
        if (index !== undefined) return index;
      }
      if (Date.now() > deadline) {
        throw new Error(`etcd: no agreed leader within ${timeoutMs} ms\n${this.describeOutput()}`);
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

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member?.stop()));
    await rm(this.root, { recursive: true, force: true });
  }

  describeOutput(): string {
    return this.members.map((member) => member?.describe() ?? '').join('\n');
  }
}
