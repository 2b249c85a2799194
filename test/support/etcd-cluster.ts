/**
 * A real 3-member etcd 3.4 cluster (Debian's `etcd-server`, /usr/bin/etcd) on loopback, for
 * running the same tests against etcd as against MeshOS: ephemeral ports, data in a temporary
 * directory, members killed and restarted at will, everything killed and removed by `close`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ClientTlsOptions, MeshClient } from '../../src/client/index.js';
import { certificateFiles, createClusterCa, issueNodeCertificate } from '../../src/transport/index.js';
import { PortPicker } from './free-ports.js';
import { until } from './until.js';

/** The etcd binary the suites run (see scripts/test-prerequisites.ts). */
export const ETCD_COMMAND = 'etcd';
/** Longest a started cluster may take to elect a leader. */
export const ETCD_READY_TIMEOUT_MS = 20_000;
const MEMBER_COUNT = 3;
/** Kept of each member's output, for failure messages. */
const OUTPUT_LINES_KEPT = 100;

/** Certificate numbers in the test CA: one shared by the members, one for clients. */
const SERVER_CERTIFICATE_ID = 1;
const CLIENT_CERTIFICATE_ID = 2;

/** A CA, a server certificate for 127.0.0.1 and a client certificate; answers the client's TLS options. */
async function issueCertificates(directory: string): Promise<ClientTlsOptions> {
  await createClusterCa(directory, 'etcd-test');
  await issueNodeCertificate(directory, SERVER_CERTIFICATE_ID);
  await issueNodeCertificate(directory, CLIENT_CERTIFICATE_ID);
  return {
    caCertificatePem: await readFile(certificateFiles.caCertificate(directory), 'utf8'),
    certificatePem: await readFile(
      certificateFiles.nodeCertificate(directory, CLIENT_CERTIFICATE_ID),
      'utf8',
    ),
    privateKeyPem: await readFile(certificateFiles.nodeKey(directory, CLIENT_CERTIFICATE_ID), 'utf8'),
  };
}

interface MemberPlan {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDirectory: string;
}

export class EtcdCluster {
  private readonly processes = new Map<string, ChildProcess>();
  private readonly output = new Map<string, string[]>();

  private constructor(
    private readonly root: string,
    private readonly members: readonly MemberPlan[],
    /** What a client needs to reach the members when they serve clients over mutual TLS. */
    readonly clientTls: ClientTlsOptions | undefined,
  ) {}

  /**
   * Starts the members; with `tls`, they serve clients over https and require a client
   * certificate from the same CA (peers stay plaintext on loopback).
   */
  static async start(name: string, options: { readonly tls?: boolean } = {}): Promise<EtcdCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), `meshos-etcd-${name}-`));
    const clientTls = options.tls === true ? await issueCertificates(path.join(root, 'certs')) : undefined;
    const scheme = clientTls === undefined ? 'http' : 'https';
    const members: MemberPlan[] = [];
    const ports = new PortPicker();
    for (let index = 1; index <= MEMBER_COUNT; index++) {
      members.push({
        name: `m${index}`,
        clientUrl: `${scheme}://127.0.0.1:${await ports.next()}`,
        peerUrl: `http://127.0.0.1:${await ports.next()}`,
        dataDirectory: path.join(root, `m${index}`),
      });
    }
    const cluster = new EtcdCluster(root, members, clientTls);
    for (const member of members) cluster.startMember(member.name);
    await cluster.waitForLeader();
    return cluster;
  }

  /** Client URLs of every member, in member order. */
  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  /** Starts (or restarts, on its data directory) member `name`. */
  startMember(name: string): void {
    const member = this.member(name);
    const initialCluster = this.members.map((each) => `${each.name}=${each.peerUrl}`).join(',');
    const child = spawn(
      ETCD_COMMAND,
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDirectory}`,
        `--listen-client-urls=${member.clientUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-token=meshos-test',
        '--initial-cluster-state=new',
        '--heartbeat-interval=100',
        '--election-timeout=1000',
        '--logger=zap',
        '--log-level=warn',
        ...(this.clientTls === undefined ? [] : this.tlsArguments()),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    this.output.set(name, lines);
    const keep = (chunk: Buffer): void => {
      lines.push(chunk.toString('utf8'));
      if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.processes.set(name, child);
  }

  /** kill -9 of member `name`; resolves once it exited. */
  async killMember(name: string): Promise<void> {
    const child = this.processes.get(name);
    this.processes.delete(name);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Name of the member that leads now (waits, bounded, for one). */
  async leaderName(): Promise<string> {
    let leader: string | undefined;
    await until(
      async () => {
        leader = await this.findLeader();
        return leader !== undefined;
      },
      `an etcd leader\n${this.describeOutput()}`,
      ETCD_READY_TIMEOUT_MS,
    );
    return leader!;
  }

  async waitForLeader(): Promise<void> {
    await this.leaderName();
  }

  async close(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.killMember(name)));
    await rm(this.root, { recursive: true, force: true });
  }

  private async findLeader(): Promise<string | undefined> {
    const running = this.members.filter((member) => this.processes.has(member.name));
    const client = await MeshClient.connect({
      endpoints: running.map((member) => member.clientUrl),
      discoverLeader: false,
      timeoutMs: 1_000,
      ...(this.clientTls === undefined ? {} : { tls: this.clientTls }),
    });
    try {
      const statuses = await client.statusAll({ timeoutMs: 1_000 });
      const leaderIds = new Set(statuses.map((entry) => entry.status?.leaderId ?? 0n));
      const [leaderId] = [...leaderIds];
      if (leaderIds.size !== 1 || leaderId === undefined || leaderId === 0n) return undefined;
      const members = await client.members({ timeoutMs: 1_000 });
      const name = members.find((member) => member.id === leaderId)?.name;
      return running.some((member) => member.name === name) ? name : undefined;
    } catch {
      return undefined;
    } finally {
      client.close();
    }
  }

  private tlsArguments(): string[] {
    const directory = path.join(this.root, 'certs');
    return [
      `--cert-file=${certificateFiles.nodeCertificate(directory, SERVER_CERTIFICATE_ID)}`,
      `--key-file=${certificateFiles.nodeKey(directory, SERVER_CERTIFICATE_ID)}`,
      `--trusted-ca-file=${certificateFiles.caCertificate(directory)}`,
      '--client-cert-auth',
    ];
  }

  private member(name: string): MemberPlan {
    const found = this.members.find((member) => member.name === name);
    if (found === undefined) throw new Error(`no etcd member ${name}`);
    return found;
  }

  describeOutput(): string {
    return [...this.output].map(([name, lines]) => `--- ${name}\n${lines.join('').slice(-2000)}`).join('\n');
  }
}
