import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fetchStatus } from '../../src/cli/admin-json.js';
import { formatPeerList } from '../../src/mesh/index.js';
import { createClusterCa, issueNodeCertificate } from '../../src/transport/index.js';
import { PortPicker } from '../support/free-ports.js';

/** Ports (free on loopback, none handed out twice) and data directory of one node. */
async function planNode(root: string, id: number, ports: PortPicker): Promise<ProcessNodePlan> {
  return {
    id,
    peer: `127.0.0.1:${await ports.next()}`,
    client: `127.0.0.1:${await ports.next()}`,
    admin: `127.0.0.1:${await ports.next()}`,
    data: path.join(root, `n${id}`),
  };
}

const MAIN_SCRIPT = path.resolve('dist/src/cli/main.js');
export const CLUSTER_ID = 'cluster-test';

/** A node's own extra arguments, from its plan and the certificate directory. */
export type NodeArgumentsOf = (plan: ProcessNodePlan, certificates: string) => readonly string[];

export interface ProcessNodePlan {
  readonly id: number;
  readonly peer: string;
  readonly client: string;
  readonly admin: string;
  readonly data: string;
}

/** Real `meshos start` processes on loopback with mutual TLS, killed and restarted at will. */
export class ProcessCluster {
  readonly processes = new Map<number, ChildProcess>();
  readonly output = new Map<number, string[]>();
  /** Exit code (or signal name) of each process that ended, by node id. */
  readonly exits = new Map<number, number | string>();
  /** Nodes added with `join`, not among the founders' `--peers`. */
  readonly joined: ProcessNodePlan[] = [];

  private constructor(
    readonly root: string,
    readonly plans: readonly ProcessNodePlan[],
    private readonly ports: PortPicker,
    private readonly nodeArguments: readonly string[],
    private readonly argumentsOf: NodeArgumentsOf,
  ) {}

  /**
   * `nodeArguments` are added to every node's `meshos start` and `meshos join`; `argumentsOf`
   * adds a node's own (its certificate files, say).
   */
  static async create(
    size: number,
    options: { nodeArguments?: readonly string[]; argumentsOf?: NodeArgumentsOf } = {},
  ): Promise<ProcessCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'meshos-cluster-'));
    const plans: ProcessNodePlan[] = [];
    const ports = new PortPicker();
    for (let id = 1; id <= size; id++) plans.push(await planNode(root, id, ports));
    const certificates = path.join(root, 'certs');
    await createClusterCa(certificates, CLUSTER_ID);
    for (const plan of plans) await issueNodeCertificate(certificates, plan.id, []);
    return new ProcessCluster(
      root,
      plans,
      ports,
      options.nodeArguments ?? [],
      options.argumentsOf ?? (() => []),
    );
  }

  /** The directory of the cluster CA and the nodes' certificates. */
  get certificates(): string {
    return path.join(this.root, 'certs');
  }

  get clientEndpoints(): string[] {
    return this.plans.map((plan) => plan.client);
  }

  plan(id: number): ProcessNodePlan {
    const found = [...this.plans, ...this.joined].find((plan) => plan.id === id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  }

  /** Starts node `id`; `peerListen` overrides where it listens for peers (after a member update). */
  start(id: number, options: { peerListen?: string } = {}): void {
    const plan = this.plan(id);
    // A joined node names itself among the peers too; its stored configuration is what counts.
    const peers = new Map(
      [...this.plans, ...(this.plans.includes(plan) ? [] : [plan])].map((other) => {
        const [host, port] = other.peer.split(':');
        return [other.id, { host: host ?? '127.0.0.1', port: Number(port) }] as const;
      }),
    );
    this.spawnNode(id, [
      'start',
      '--id',
      String(id),
      '--data',
      plan.data,
      '--peers',
      formatPeerList(peers),
      ...(options.peerListen === undefined ? [] : ['--peer-listen', options.peerListen]),
      ...this.commonArguments(plan),
    ]);
  }

  /** SIGTERM, and waits (bounded) for a clean exit. */
  async stop(id: number): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.waitForExit(id, 15_000);
  }

  /**
   * Runs `meshos join --via` the client endpoint of node `via`; the cluster gives the new node
   * the next free id, which is `expectedId` when nodes join one at a time.
   */
  async join(
    expectedId: number,
    via: number,
    options: { promote: boolean; extraArguments?: readonly string[] },
  ): Promise<ProcessNodePlan> {
    const plan = await planNode(this.root, expectedId, this.ports);
    this.joined.push(plan);
    this.spawnNode(expectedId, [
      'join',
      '--via',
      this.plan(via).client,
      '--data',
      plan.data,
      '--peer-listen',
      plan.peer,
      ...this.commonArguments(plan),
      ...(options.promote ? [] : ['--no-promote']),
      ...(options.extraArguments ?? []),
    ]);
    return plan;
  }

  private commonArguments(plan: ProcessNodePlan): string[] {
    return [
      '--cluster',
      CLUSTER_ID,
      '--client-listen',
      plan.client,
      '--admin-listen',
      plan.admin,
      '--certs',
      this.certificates,
      ...this.nodeArguments,
      ...this.argumentsOf(plan, this.certificates),
    ];
  }

  private spawnNode(id: number, argv: readonly string[]): void {
    const child = spawn(process.execPath, [MAIN_SCRIPT, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MESHOS_LOG: process.env.MESHOS_CLUSTER_LOG ?? 'warn' },
    });
    const lines = this.output.get(id) ?? [];
    this.output.set(id, lines);
    const keep = (chunk: Buffer): void => {
      lines.push(chunk.toString('utf8'));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // For diagnosis (MESHOS_CLUSTER_LOG=info with it): each node's whole output, appended to a file.
    const outputDirectory = process.env.MESHOS_CLUSTER_OUTPUT_DIR;
    if (outputDirectory !== undefined && outputDirectory !== '') {
      const file = createWriteStream(path.join(outputDirectory, `n${id}.log`), { flags: 'a' });
      child.stdout?.pipe(file, { end: false });
      child.stderr?.pipe(file, { end: false });
      child.once('close', () => file.end());
    }
    this.exits.delete(id);
    child.once('exit', (code, signal) => this.exits.set(id, code ?? signal ?? 'unknown'));
    this.processes.set(id, child);
  }

  /** Waits (bounded) until node `id`'s process ends by itself; answers its exit code. */
  async waitForExit(id: number, timeoutMs: number): Promise<number | string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exits.has(id)) {
      if (Date.now() > deadline)
        throw new Error(`node ${id} still runs after ${timeoutMs} ms\n${this.describeOutput()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.processes.delete(id);
    return this.exits.get(id)!;
  }

  startAll(): void {
    for (const plan of this.plans) this.start(plan.id);
  }

  /** kill -9: no shutdown code runs, unsynced writes are whatever the OS kept. */
  async kill(id: number): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined) return;
    this.processes.delete(id);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.processes.entries()].map(async ([id, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        this.processes.delete(id);
      }),
    );
  }

  /** Waits (bounded) until the running nodes agree on one leader; returns its id. */
  async waitForLeader(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...this.processes.keys()];
      const statuses = await Promise.all(running.map((id) => fetchStatus(this.plan(id).admin, 500)));
      const leaders = new Set(statuses.map((status) => Number(status?.leaderId ?? 0)));
      const [leader] = [...leaders];
      if (leaders.size === 1 && leader !== undefined && leader !== 0 && running.includes(leader))
        return leader;
      if (Date.now() > deadline) {
        throw new Error(
          `no agreed leader within ${timeoutMs} ms; statuses ${JSON.stringify(statuses)}\n${this.describeOutput()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits (bounded) until every running node reports `voters` as its voters and no learners. */
  async waitForVoters(voters: readonly number[], timeoutMs: number): Promise<void> {
    const want = JSON.stringify([...voters].sort((a, b) => a - b));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(
        [...this.processes.keys()].map((id) => fetchStatus(this.plan(id).admin, 500)),
      );
      const agreed = statuses.every((status) => {
        const config = status?.config as { voters?: number[]; learners?: number[] } | undefined;
        return (
          JSON.stringify([...(config?.voters ?? [])].sort((a, b) => a - b)) === want &&
          (config?.learners ?? []).length === 0
        );
      });
      if (agreed) return;
      if (Date.now() > deadline) {
        throw new Error(
          `voters not ${want} within ${timeoutMs} ms: ${JSON.stringify(statuses)}\n${this.describeOutput()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  describeOutput(): string {
    return [...this.output].map(([id, lines]) => `--- n${id}\n${lines.join('').slice(-2000)}`).join('\n');
  }
}
