import { mkdtemp, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fetchStatus } from '../../src/cli/admin-json.js';
import {
  ensureLocalCertificates,
  type LocalNodePlan,
  mainScript,
  NODE_PROCESS_V8_FLAGS,
  nodeArguments,
} from '../../src/cli/local-cluster.js';
import { LONG_PAUSE_MESSAGE, LONG_STEP_MESSAGE } from '../../src/mesh/mesh-node.js';
import { certificateFiles, issueClientCertificate } from '../../src/transport/index.js';
import { type MemberLongStep, parseLongStepLine } from './machine-stalls.js';
import { ProcessBenchCluster } from './process-bench-cluster.js';
import { freePort, ManagedProcess } from './processes.js';
import { type BenchClientTls, kvRequestFrame, RawKvChannels } from './raw-kv-channels.js';

const STATUS_TIMEOUT_MS = 500;

/** A member's log line of a long step or GC pause (kept whole, whatever else the member logs). */
function isLongStepLine(line: string): boolean {
  return line.includes(LONG_STEP_MESSAGE) || line.includes(LONG_PAUSE_MESSAGE);
}
/** The common name of the load's client certificate. */
const BENCH_CLIENT = 'bench';

export interface MeshosClusterOptions {
  readonly size?: number;
  /** Extra `node` flags for member `index` (e.g. `--cpu-prof`). */
  readonly nodeFlags?: (index: number) => readonly string[];
  /** Extra `meshos start` arguments for every member (e.g. `--insecure`). */
  readonly startArguments?: readonly string[];
  /** Serve the client ports over TLS with client certificate auth (`clientTls()` gives the load its PEM). */
  readonly clientTls?: boolean;
  /** The CLI script the members run (default this build's): another build's, to set two side by side. */
  readonly mainScript?: string;
}

/**
 * Options from the environment, for the suite, saturation, chaos and diagnostic (counters, profile) runs:
 * `MESHOS_BENCH_INSECURE=1` runs plaintext peers, `MESHOS_BENCH_NODE_FLAGS` adds node flags
 * (members log at `MESHOS_BENCH_LOG`, default warn).
 */
export function clusterOptionsFromEnvironment(): MeshosClusterOptions {
  const nodeFlags = (process.env.MESHOS_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  return {
    ...(nodeFlags.length > 0 ? { nodeFlags: () => nodeFlags } : {}),
    ...(process.env.MESHOS_BENCH_INSECURE === '1' ? { startArguments: ['--insecure'] } : {}),
    ...(process.env.MESHOS_BENCH_CLIENT_TLS === '1' ? { clientTls: true } : {}),
  };
}

/**
 * Three `meshos start` processes on loopback as in production: mutual TLS between peers, the
 * write-ahead log fsynced, Raft's default timing. Clients speak plaintext gRPC, like etcd's here.
 */
export class MeshosCluster extends ProcessBenchCluster {
  readonly system = 'MeshOS';

  private constructor(
    root: string,
    private readonly plans: readonly LocalNodePlan[],
    private readonly options: MeshosClusterOptions,
  ) {
    super(root, plans.length);
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
    if (options.clientTls === true) await issueClientCertificate(path.join(root, 'certs'), BENCH_CLIENT);
    return new MeshosCluster(root, plans, options);
  }

  /** The load's TLS material when the cluster serves TLS; undefined for plaintext. */
  async clientTls(): Promise<BenchClientTls | undefined> {
    if (this.options.clientTls !== true) return undefined;
    const certificates = path.join(this.root, 'certs');
    return {
      ca: await readFile(certificateFiles.caCertificate(certificates), 'utf8'),
      cert: await readFile(certificateFiles.clientCertificate(certificates, BENCH_CLIENT), 'utf8'),
      key: await readFile(certificateFiles.clientKey(certificates, BENCH_CLIENT), 'utf8'),
    };
  }

  /** Under client TLS the probe's Put goes over TLS with the load's certificate. */
  protected override async acceptsWrite(timeoutMs: number): Promise<boolean> {
    const tls = await this.clientTls();
    if (tls === undefined) return super.acceptsWrite(timeoutMs);
    const channels = new RawKvChannels(this.endpoints, 1, tls);
    const put = kvRequestFrame('Put', { key: Buffer.from('bench/probe'), value: Buffer.from('1') });
    try {
      for (let index = 0; index < channels.size; index++) {
        try {
          await channels.call(index, 'Put', put, timeoutMs);
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

  /** A member's client TLS flags (its node certificate serves its port), when asked for. */
  private clientTlsArguments(id: number): string[] {
    if (this.options.clientTls !== true) return [];
    const certificates = path.join(this.root, 'certs');
    return [
      '--cert-file',
      certificateFiles.nodeCertificate(certificates, id),
      '--key-file',
      certificateFiles.nodeKey(certificates, id),
      '--trusted-ca-file',
      certificateFiles.caCertificate(certificates),
      '--client-cert-auth',
    ];
  }

  get endpoints(): string[] {
    return this.plans.map((plan) => plan.client);
  }

  adminAddress(index: number): string {
    return this.plans[index]!.admin;
  }

  protected launch(index: number): ManagedProcess {
    const plan = this.plans[index]!;
    const flags = this.options.nodeFlags?.(index) ?? [];
    return new ManagedProcess(
      `n${plan.id}`,
      process.execPath,
      [
        // As `npm start` runs its nodes; flags from the environment come later and win.
        ...NODE_PROCESS_V8_FLAGS,
        ...flags,
        this.options.mainScript ?? mainScript(),
        ...nodeArguments(plan, this.plans, path.join(this.root, 'certs')),
        ...(this.options.startArguments ?? []),
        ...this.clientTlsArguments(plan.id),
      ],
      // MESHOS_BENCH_LOG=info (with MESHOS_BENCH_OUTPUT_DIR) keeps the members' logs for diagnosis.
      { ...process.env, MESHOS_LOG: process.env.MESHOS_BENCH_LOG ?? 'warn' },
      isLongStepLine,
    );
  }

  /** The long steps and GC pauses the running members have logged since they started. */
  longSteps(): MemberLongStep[] {
    return this.members.flatMap(
      (member, index) => member?.collected.flatMap((line) => parseLongStepLine(index + 1, line) ?? []) ?? [],
    );
  }

  protected async memberTerm(index: number): Promise<number | undefined> {
    const status = await fetchStatus(this.plans[index]!.admin, STATUS_TIMEOUT_MS);
    return status === undefined ? undefined : Number(status.term);
  }

  /** Member `index`'s Prometheus metrics text, or undefined when it does not answer in time. */
  async metricsText(index: number): Promise<string | undefined> {
    try {
      const response = await fetch(`http://${this.plans[index]!.admin}/metrics`, {
        signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
      });
      return await response.text();
    } catch {
      return undefined;
    }
  }

  protected async agreedLeader(running: readonly number[]): Promise<{ index?: number; detail: string }> {
    const statuses = await Promise.all(
      running.map((index) => fetchStatus(this.plans[index]!.admin, STATUS_TIMEOUT_MS)),
    );
    const leaders = new Set(statuses.map((status) => Number(status?.leaderId ?? 0)));
    const [leader] = [...leaders];
    const detail = JSON.stringify(statuses);
    if (leaders.size !== 1 || leader === undefined || leader === 0) return { detail };
    return { index: this.plans.findIndex((plan) => plan.id === leader), detail };
  }
}
