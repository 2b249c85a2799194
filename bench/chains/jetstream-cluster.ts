import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { isOnPath } from '../../scripts/test-prerequisites.js';
import { ProcessBenchCluster } from '../cluster/process-bench-cluster.js';
import { freePort, ManagedProcess } from '../cluster/processes.js';

/** Debian's nats-server package (2.9.10 on bookworm) puts it on the PATH. */
export const NATS_SERVER_BINARY = process.env.NATS_SERVER_BINARY ?? 'nats-server';
export const NATS_SERVER_INSTALL_HINT =
  'nats-server is not on the PATH: install it with `sudo apt-get update && sudo apt-get install -y nats-server` (Debian, 2.9.10), or set NATS_SERVER_BINARY';
const MONITOR_TIMEOUT_MS = 500;
const CLUSTER_NAME = 'chains-bench';

export function natsServerInstalled(): boolean {
  return path.isAbsolute(NATS_SERVER_BINARY) || isOnPath(NATS_SERVER_BINARY);
}

interface NatsMemberPlan {
  readonly name: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly routePort: number;
  readonly configFile: string;
  readonly storeDirectory: string;
}

/** The part of nats-server's `/jsz` monitoring answer the bench reads. */
interface JetStreamInfo {
  readonly meta_cluster?: { readonly leader?: string };
}

async function fetchJetStreamInfo(monitorPort: number): Promise<JetStreamInfo | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz`, {
      signal: AbortSignal.timeout(MONITOR_TIMEOUT_MS),
    });
    return response.ok ? ((await response.json()) as JetStreamInfo) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Three nats-server processes with JetStream on loopback, routed to each other as one cluster,
 * each storing in its own folder of a temporary directory; plaintext, the server's defaults
 * otherwise (2.9 acknowledges a stream write before fsync and syncs every 2 minutes).
 */
export class JetStreamCluster extends ProcessBenchCluster {
  readonly system = 'JetStream';

  private constructor(
    root: string,
    private readonly plans: readonly NatsMemberPlan[],
  ) {
    super(root, plans.length);
  }

  static async create(size = 3): Promise<JetStreamCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bench-nats-'));
    const plans: NatsMemberPlan[] = [];
    for (let index = 0; index < size; index++) {
      const name = `n${index + 1}`;
      plans.push({
        name,
        clientPort: await freePort(),
        monitorPort: await freePort(),
        routePort: await freePort(),
        configFile: path.join(root, `${name}.conf`),
        storeDirectory: path.join(root, name),
      });
    }
    const routes = plans.map((plan) => `nats-route://127.0.0.1:${plan.routePort}`);
    for (const plan of plans) {
      await mkdir(plan.storeDirectory, { recursive: true });
      await writeFile(
        plan.configFile,
        [
          `server_name: ${plan.name}`,
          `listen: 127.0.0.1:${plan.clientPort}`,
          `http: 127.0.0.1:${plan.monitorPort}`,
          `jetstream { store_dir: ${JSON.stringify(plan.storeDirectory)} }`,
          `cluster { name: ${CLUSTER_NAME}, listen: 127.0.0.1:${plan.routePort}, routes: [${routes.join(', ')}] }`,
          '',
        ].join('\n'),
      );
    }
    return new JetStreamCluster(root, plans);
  }

  get endpoints(): string[] {
    return this.plans.map((plan) => `127.0.0.1:${plan.clientPort}`);
  }

  /** Member index of the server named `name` (as JetStream names a leader), or undefined. */
  indexOf(name: string): number | undefined {
    const index = this.plans.findIndex((plan) => plan.name === name);
    return index < 0 ? undefined : index;
  }

  protected launch(index: number): ManagedProcess {
    const plan = this.plans[index]!;
    return new ManagedProcess(plan.name, NATS_SERVER_BINARY, ['-c', plan.configFile]);
  }

  /** nats-server does not report its meta group's Raft term over monitoring. */
  protected async memberTerm(): Promise<number | undefined> {
    return undefined;
  }

  /** The JetStream meta leader every running member names. */
  protected async agreedLeader(running: readonly number[]): Promise<{ index?: number; detail: string }> {
    const infos = await Promise.all(
      running.map((index) => fetchJetStreamInfo(this.plans[index]!.monitorPort)),
    );
    const leaders = new Set(infos.map((info) => info?.meta_cluster?.leader ?? ''));
    const [leader] = [...leaders];
    const detail = `meta leaders seen: ${[...leaders].map((name) => name || '(none)').join(', ')}`;
    if (leaders.size !== 1 || leader === undefined || leader === '') return { detail };
    const index = this.indexOf(leader);
    return index === undefined ? { detail } : { index, detail };
  }

  /** True once the JetStream API answers an account-info request (it needs the meta leader). */
  protected override async acceptsWrite(timeoutMs: number): Promise<boolean> {
    let connection: NatsConnection | undefined;
    try {
      connection = await connect({ servers: this.endpoints, timeout: timeoutMs });
      const manager = await connection.jetstreamManager({ timeout: timeoutMs });
      await manager.getAccountInfo();
      return true;
    } catch {
      return false;
    } finally {
      await connection?.close();
    }
  }
}
