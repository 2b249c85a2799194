/**
 * Worker nodes (`meshos start --role worker`) as real processes on loopback, each with free
 * ports and its own data directory under one root; killed (-9) and restarted at will, and a
 * watcher in the test process that sees the mesh's membership through the control plane.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from '../../bench/cluster/processes.js';
import { fetchAdminJson } from '../../src/cli/admin-json.js';
import type { ClientTlsOptions } from '../../src/client/index.js';
import { type ControlPlane, openControlPlane } from '../../src/control/index.js';
import { SystemClock, systemRandom } from '../../src/lib/index.js';
import { type MembershipChange, MembershipView, type NodeListing } from '../../src/mesh/index.js';
import { PortPicker } from '../support/free-ports.js';
import { until } from '../support/until.js';
import { CLUSTER_ID, type ProcessCluster } from './process-cluster.js';

const MAIN_SCRIPT = path.resolve('dist/src/cli/main.js');

export interface WorkerPlan {
  readonly label: string;
  readonly peer: string;
  /** Its client port: MeshOS's gRPC services (chains). */
  readonly client: string;
  readonly admin: string;
  readonly data: string;
}

export interface WorkerProcessesOptions {
  readonly root: string;
  readonly clusterId: string;
  readonly certificates: string;
  /** host:port of the control plane's client endpoints (MeshOS voters or etcd). */
  readonly controlPlane: readonly string[];
  readonly leaseTtlSeconds: number;
  /** Arguments every start of every worker gets (e.g. the control plane's TLS files). */
  readonly commonArguments?: readonly string[];
  /** More environment for the worker processes (`MESHOS_FAULT_INJECTION=1`). */
  readonly environment?: Readonly<Record<string, string>>;
}

export class WorkerProcesses {
  private readonly plans = new Map<string, WorkerPlan>();
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports = new PortPicker();

  constructor(private readonly options: WorkerProcessesOptions) {}

  /** Workers of `cluster`'s mesh (its id and CA), with its voters as the control plane. */
  static onVoters(
    cluster: ProcessCluster,
    options: Pick<WorkerProcessesOptions, 'leaseTtlSeconds' | 'environment'>,
  ): WorkerProcesses {
    return new WorkerProcesses({
      root: cluster.root,
      clusterId: CLUSTER_ID,
      certificates: path.join(cluster.root, 'certs'),
      controlPlane: cluster.clientEndpoints,
      ...options,
    });
  }

  /** Plans worker `label` (free ports, a data directory) and starts it. */
  async add(label: string, extraArguments: readonly string[] = []): Promise<WorkerPlan> {
    const plan = {
      label,
      peer: `127.0.0.1:${await this.ports.next()}`,
      client: `127.0.0.1:${await this.ports.next()}`,
      admin: `127.0.0.1:${await this.ports.next()}`,
      data: path.join(this.options.root, label),
    };
    this.plans.set(label, plan);
    this.start(label, extraArguments);
    return plan;
  }

  plan(label: string): WorkerPlan {
    const plan = this.plans.get(label);
    if (plan === undefined) throw new Error(`no worker ${label}`);
    return plan;
  }

  /** Starts (or restarts, on its data directory and ports) worker `label`. */
  start(label: string, extraArguments: readonly string[] = []): void {
    const plan = this.plan(label);
    this.processes.set(
      label,
      new ManagedProcess(
        label,
        process.execPath,
        [
          MAIN_SCRIPT,
          'start',
          '--role',
          'worker',
          '--cluster',
          this.options.clusterId,
          '--control-plane',
          this.options.controlPlane.join(','),
          '--data',
          plan.data,
          '--peer-listen',
          plan.peer,
          '--client-listen',
          plan.client,
          '--admin-listen',
          plan.admin,
          '--certs',
          this.options.certificates,
          '--node-lease-ttl',
          String(this.options.leaseTtlSeconds),
          ...(this.options.commonArguments ?? []),
          ...extraArguments,
        ],
        { ...process.env, MESHOS_LOG: 'warn', ...this.options.environment },
      ),
    );
  }

  /** The running (or exited) process of worker `label`. */
  process(label: string): ManagedProcess {
    const child = this.processes.get(label);
    if (child === undefined) throw new Error(`worker ${label} was not started`);
    return child;
  }

  /** kill -9: no shutdown code runs, the lease is not revoked. */
  async kill(label: string): Promise<void> {
    await this.processes.get(label)?.kill();
    this.processes.delete(label);
  }

  /** The node id worker `label` reports on its admin port (waits, bounded, until it answers). */
  async nodeId(label: string): Promise<number> {
    let id = 0;
    await until(
      async () => {
        id = Number((await fetchAdminJson(this.plan(label).admin, '/status', 500))?.id ?? 0);
        return id > 0;
      },
      `worker ${label}'s id\n${this.describeOutput()}`,
      30_000,
    );
    return id;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((child) => child.stop()));
    this.processes.clear();
  }

  describeOutput(): string {
    return [...this.processes.values()].map((child) => child.describe()).join('\n');
  }
}

/** `meshos nodes --json --endpoints ADMIN` run as its own process: the nodes of its `NodesDocument`. */
export async function meshosNodes(adminEndpoints: readonly string[]): Promise<NodeListing[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    MAIN_SCRIPT,
    'nodes',
    '--json',
    '--endpoints',
    adminEndpoints.join(','),
  ]);
  return (JSON.parse(stdout) as { nodes: NodeListing[] }).nodes;
}

/** A membership watcher in the test process, over the control plane's etcd API; changes timestamped. */
export class MembershipWatcher {
  readonly changes: { readonly change: MembershipChange; readonly atMs: number }[] = [];

  private constructor(
    private readonly plane: ControlPlane,
    readonly view: MembershipView,
  ) {
    view.onChange((change) => this.changes.push({ change, atMs: Date.now() }));
  }

  static async start(endpoints: readonly string[], tls?: ClientTlsOptions): Promise<MembershipWatcher> {
    const clock = new SystemClock();
    const plane = await openControlPlane({
      kind: 'etcd',
      endpoints,
      clock,
      ...(tls === undefined ? {} : { tls }),
    });
    const view = new MembershipView({ plane, clock, random: systemRandom(), suspicionLapseMs: 60_000 });
    const watcher = new MembershipWatcher(plane, view);
    view.start();
    await view.whenLoaded();
    return watcher;
  }

  /** When `id` last left (its record deleted), or undefined. */
  leftAt(id: number): number | undefined {
    return this.changes.findLast(({ change }) => change.type === 'leave' && change.node.record.id === id)
      ?.atMs;
  }

  /** `join 7`, `leave 7`, ... for node `id`, in order. */
  history(id: number): string[] {
    return this.changes
      .filter(
        ({ change }) => change.node.record.id === id && (change.type === 'join' || change.type === 'leave'),
      )
      .map(({ change }) => change.type);
  }

  async close(): Promise<void> {
    await this.view.close();
    await this.plane.close();
  }
}
