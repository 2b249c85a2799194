/**
 * The node processes of `meshos start-local`, supervised: a node that exits on its own (a crash,
 * `kill -9`, `meshos demo failover`) is started again after `NODE_RESTART_DELAY_MS`, unless it
 * ended `MAX_NODE_RESTARTS` times within `NODE_RESTART_WINDOW_MS` (a crash loop: the launcher
 * then stops the cluster). Each start rewrites the local cluster's record with the new pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { CommandIo } from './commands/index.js';
import { LOCAL_CLUSTER_RECORD_VERSION, writeLocalClusterRecord } from './local-cluster-record.js';

/** Long enough for the mesh to notice the loss as it would a real crash; short enough to watch it rejoin. */
export const NODE_RESTART_DELAY_MS = 1_000;
export const MAX_NODE_RESTARTS = 5;
export const NODE_RESTART_WINDOW_MS = 60_000;
/** How long children get to stop after Ctrl-C before they are killed. */
const CHILD_STOP_TIMEOUT_MS = 10_000;

export interface SupervisedNode {
  readonly id: number;
  readonly client: string;
  readonly peer: string;
  readonly admin: string;
  readonly data: string;
  /** The node process's command line after `node`. */
  readonly argv: readonly string[];
}

export class LocalNodeProcesses {
  private readonly children = new Map<number, ChildProcess>();
  private readonly exits = new Map<number, number[]>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private crashLooped: (reason: string) => void = () => {};
  /** Resolves (with the reason) when a node crash-looped and the cluster should stop. */
  readonly failed = new Promise<string>((resolve) => {
    this.crashLooped = resolve;
  });

  constructor(
    private readonly root: string,
    private readonly clusterId: string,
    private readonly nodes: readonly SupervisedNode[],
    private readonly io: CommandIo,
  ) {}

  startAll(): void {
    for (const node of this.nodes) this.spawn(node);
    this.writeRecord();
    // A launcher that ends without stopping (an uncaught error) leaves no node behind.
    process.once('exit', () => {
      for (const child of this.children.values()) if (child.exitCode === null) child.kill('SIGKILL');
    });
  }

  /** SIGTERM to every node, SIGKILL to those still running after `CHILD_STOP_TIMEOUT_MS`. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const running = [...this.children.values()].filter(
      (child) => child.exitCode === null && child.signalCode === null,
    );
    const exited = running.map(
      (child) => new Promise<void>((resolve) => child.once('exit', () => resolve())),
    );
    for (const child of running) child.kill('SIGTERM');
    const killTimer = setTimeout(() => {
      for (const child of running) child.kill('SIGKILL');
    }, CHILD_STOP_TIMEOUT_MS);
    await Promise.all(exited);
    clearTimeout(killTimer);
    this.writeRecord();
  }

  private spawn(node: SupervisedNode): void {
    const child = spawn(process.execPath, [...node.argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
      // Own process group: Ctrl-C reaches the launcher only, which then stops the nodes in order.
      detached: true,
      env: { ...process.env, MESHOS_LOG: process.env.MESHOS_LOG ?? 'warn' },
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.startsWith('node ')) this.io.out(`  ${line}`);
    });
    child.once('exit', (code, signal) => this.onExit(node, code, signal));
    this.children.set(node.id, child);
  }

  private onExit(node: SupervisedNode, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const now = Date.now();
    const recent = [...(this.exits.get(node.id) ?? []), now].filter(
      (at) => now - at <= NODE_RESTART_WINDOW_MS,
    );
    this.exits.set(node.id, recent);
    this.writeRecord();
    const how = signal === null ? `with code ${code}` : `(${signal})`;
    if (recent.length > MAX_NODE_RESTARTS) {
      this.crashLooped(
        `n${node.id} exited ${recent.length} times within ${NODE_RESTART_WINDOW_MS / 1000} s, last ${how}`,
      );
      return;
    }
    this.io.out(`n${node.id} exited ${how}; starting it again in ${NODE_RESTART_DELAY_MS / 1000} s`);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      this.spawn(node);
      this.writeRecord();
      this.io.out(`n${node.id} started again (pid ${this.children.get(node.id)?.pid ?? '?'})`);
    }, NODE_RESTART_DELAY_MS);
    this.restartTimers.add(timer);
  }

  private pidOf(id: number): number {
    const child = this.children.get(id);
    return child === undefined || child.exitCode !== null || child.signalCode !== null ? 0 : (child.pid ?? 0);
  }

  private writeRecord(): void {
    writeLocalClusterRecord(this.root, {
      version: LOCAL_CLUSTER_RECORD_VERSION,
      launcherPid: process.pid,
      clusterId: this.clusterId,
      nodes: this.nodes.map(({ id, client, peer, admin, data }) => ({
        id,
        pid: this.pidOf(id),
        client,
        peer,
        admin,
        data,
      })),
    });
  }
}
