import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { etcdServices } from '../../src/api/proto.js';
import type { PbStatusResponse } from '../../src/protocol/index.js';
import { ProcessBenchCluster } from './process-bench-cluster.js';
import { freePort, ManagedProcess } from './processes.js';

/** The etcd binary; Debian's etcd-server package puts it on the PATH. */
export const ETCD_BINARY = process.env.ETCD_BINARY ?? 'etcd';
const STATUS_TIMEOUT_MS = 500;

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

/**
 * Three etcd members on loopback, plaintext, with etcd's default timing (heartbeat 100 ms,
 * election 1000 ms) and its default fsync behaviour.
 */
export class EtcdCluster extends ProcessBenchCluster {
  readonly system = 'etcd';

  private constructor(
    root: string,
    private readonly plans: readonly EtcdMemberPlan[],
    private readonly extraArguments: readonly string[],
  ) {
    super(root, plans.length);
  }

  /** `extraArguments` are added to every member's command line (e.g. auto-compaction flags). */
  static async create(size = 3, extraArguments: readonly string[] = []): Promise<EtcdCluster> {
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
    return new EtcdCluster(root, plans, extraArguments);
  }

  get endpoints(): string[] {
    return this.plans.map((plan) => `127.0.0.1:${plan.clientPort}`);
  }

  protected launch(index: number): ManagedProcess {
    const plan = this.plans[index]!;
    const initialCluster = this.plans
      .map((other) => `${other.name}=http://127.0.0.1:${other.peerPort}`)
      .join(',');
    return new ManagedProcess(plan.name, ETCD_BINARY, [
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
      ...this.extraArguments,
    ]);
  }

  protected async memberTerm(index: number): Promise<number | undefined> {
    const status = await etcdStatus(this.endpoints[index]!);
    return status === undefined ? undefined : Number(status.raftTerm);
  }

  protected async agreedLeader(running: readonly number[]): Promise<{ index?: number; detail: string }> {
    const statuses = await Promise.all(running.map((index) => etcdStatus(this.endpoints[index]!)));
    const leaders = new Set(statuses.map((status) => status?.leader ?? '0'));
    const [leader] = [...leaders];
    const detail = `leaders seen: ${[...leaders].join(', ')}`;
    if (leaders.size !== 1 || leader === undefined || leader === '0') return { detail };
    const position = statuses.findIndex((status) => status?.header.member_id === leader);
    const index = running[position];
    return index === undefined ? { detail } : { index, detail };
  }
}
