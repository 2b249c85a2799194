/**
 * The client port's gRPC server alone, on node:http2 against MeshOS's own HTTP/2
 * (`MESHOS_CLIENT_PORT_SERVER` node-http2 / meshos): a server process with etcd's KV service whose
 * `Put` answers on `setImmediate` (no store), driven from a separate client process by a raw
 * node:http2 client (16 calls in flight, 256-byte values, `grpc-timeout` sent, as etcd's Go client
 * sends it). Per round the server reports its own CPU per call and its scavenges per 10,000 calls
 * over the measured calls (after a warm-up), with the young generation fixed at 16 MB so that
 * scavenges count allocation. Rounds alternate the two HTTP/2s (A B A B).
 * With `--allocations` the server also samples its allocations (garbage included) over the
 * measured calls and prints its top allocation sites, bytes per call.
 * Run: `node dist/bench/grpc-server-alone.js [--rounds 6] [--calls 20000] [--allocations]`.
 */
import { fork } from 'node:child_process';
import * as http2 from 'node:http2';
import { Session } from 'node:inspector/promises';
import * as net from 'node:net';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { GrpcServer } from '../src/api/grpc-server/index.js';
import { HPACK_CODEC } from '../src/api/http2/header-codec.js';
import { etcdServices } from '../src/api/proto.js';
import { runToExit } from './harness.js';

const IN_FLIGHT = 16;
const WARM_UP_CALLS = 5_000;
const VALUE_BYTES = 256;
const SEMI_SPACE_MB = 16;

type Http2Choice = 'node' | 'meshos';

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Sampled bytes per allocation site (function, file and line), summed over the profile tree. */
function allocationSites(node: ProfileNode, into: Map<string, number>): Map<string, number> {
  const frame = node.callFrame;
  const site = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
  if (node.selfSize > 0) into.set(site, (into.get(site) ?? 0) + node.selfSize);
  for (const child of node.children) allocationSites(child, into);
  return into;
}

interface RoundReport {
  readonly http2: Http2Choice;
  readonly cpuMicrosecondsPerCall: number;
  readonly scavengesPer10kCalls: number;
  readonly markCompacts: number;
  /** Top allocation sites, bytes per call, with `--allocations`. */
  readonly allocations?: readonly string[];
}

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

/** The server process: serves until the client says the measured calls are done. */
async function serve(http2Choice: Http2Choice): Promise<void> {
  const server = new GrpcServer({
    maxReceiveMessageBytes: 4 << 20,
    maxSendMessageBytes: 4 << 20,
    ...(http2Choice === 'meshos' ? { ownHttp2: HPACK_CODEC } : {}),
  });
  const answer = { header: { cluster_id: '1', member_id: '1', revision: '1', raft_term: '1' } };
  server.addService(etcdServices().kv, {
    Put: (_call: unknown, callback: (error: null, value: unknown) => void) =>
      setImmediate(() => callback(null, answer)),
  });
  const listener = net.createServer((socket) => {
    socket.setNoDelay(true);
    server.injectConnection(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  let scavenges = 0;
  let markCompacts = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === 1) scavenges++;
      else if (kind === 4) markCompacts++;
    }
  }).observe({ entryTypes: ['gc'] });
  const profiling = process.argv.includes('--allocations');
  const inspector = new Session();
  if (profiling) inspector.connect();
  let start = process.cpuUsage();
  process.on('message', async (message: { measure?: boolean; done?: number }) => {
    if (message.measure === true) {
      if (profiling)
        await inspector.post('HeapProfiler.startSampling', {
          samplingInterval: 256,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      start = process.cpuUsage();
      scavenges = 0;
      markCompacts = 0;
    } else if (message.done !== undefined) {
      const used = process.cpuUsage(start);
      const calls = message.done;
      let allocations: string[] | undefined;
      if (profiling) {
        const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as {
          profile: { head: ProfileNode };
        };
        const sites = [...allocationSites(profile.head, new Map()).entries()].sort((a, b) => b[1] - a[1]);
        const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
        allocations = [
          `total ${(total / calls).toFixed(0)} B/call`,
          ...sites
            .slice(0, 15)
            .map(([site, bytes]) => `${(bytes / calls).toFixed(0).padStart(6)} B/call  ${site}`),
        ];
      }
      const report: RoundReport = {
        http2: http2Choice,
        cpuMicrosecondsPerCall: (used.user + used.system) / calls,
        scavengesPer10kCalls: (scavenges * 10_000) / calls,
        markCompacts,
        ...(allocations === undefined ? {} : { allocations }),
      };
      process.send?.(report, () => process.exit(0));
    }
  });
  process.send?.({ port: (listener.address() as net.AddressInfo).port });
}

/** The client process: warm-up, then the measured calls, telling the server when each begins. */
async function drive(port: number, calls: number): Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const request = etcdServices().kv.Put!.requestSerialize({
    key: Buffer.from('bench/key'),
    value: Buffer.alloc(VALUE_BYTES, 7),
  });
  const body = Buffer.alloc(5 + request.length);
  body.writeUInt32BE(request.length, 1);
  request.copy(body, 5);
  const headers = {
    ':method': 'POST',
    ':path': '/etcdserverpb.KV/Put',
    ':authority': `127.0.0.1:${port}`,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '4999982u',
    'user-agent': 'grpc-go/1.60.1',
  };
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const stream = session.request(headers);
      stream.on('data', () => {});
      stream.on('trailers', (trailers) => {
        if (trailers['grpc-status'] !== '0')
          reject(new Error(`grpc-status ${String(trailers['grpc-status'])}`));
      });
      stream.on('end', () => resolve());
      stream.on('error', reject);
      stream.end(body);
    });
  const run = async (count: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) {
          next++;
          await one();
        }
      }),
    );
  };
  await run(WARM_UP_CALLS);
  process.send?.({ measure: true });
  await run(calls);
  process.send?.({ done: calls });
  session.close();
}

async function round(http2Choice: Http2Choice, calls: number): Promise<RoundReport> {
  const script = process.argv[1]!;
  const server = fork(
    script,
    ['--serve', http2Choice, ...(process.argv.includes('--allocations') ? ['--allocations'] : [])],
    {
      execArgv: [`--max-semi-space-size=${SEMI_SPACE_MB}`, `--min-semi-space-size=${SEMI_SPACE_MB}`],
    },
  );
  const port = await new Promise<number>((resolve) =>
    server.once('message', (message: { port: number }) => resolve(message.port)),
  );
  const client = fork(script, ['--drive', String(port), '--calls', String(calls)]);
  client.on('message', (message) => server.send(message as object));
  const clientExited = new Promise((resolve) => client.once('exit', resolve));
  const report = await new Promise<RoundReport>((resolve) =>
    server.on('message', (message: RoundReport) => {
      if ('cpuMicrosecondsPerCall' in message) resolve(message);
    }),
  );
  await clientExited;
  return report;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const serveAt = process.argv.indexOf('--serve');
  if (serveAt >= 0) {
    await serve(process.argv[serveAt + 1] as Http2Choice);
    await new Promise(() => {});
  }
  const driveAt = process.argv.indexOf('--drive');
  if (driveAt >= 0) {
    await drive(Number(process.argv[driveAt + 1]), argument('calls', 20_000));
    return;
  }
  const rounds = argument('rounds', 6);
  const calls = argument('calls', 20_000);
  const reports: RoundReport[] = [];
  for (let index = 0; index < rounds; index++) {
    const load = loadavg()[0]!.toFixed(2);
    const report = await round(index % 2 === 0 ? 'node' : 'meshos', calls);
    reports.push(report);
    console.log(
      `${report.http2.padEnd(6)} cpu ${report.cpuMicrosecondsPerCall.toFixed(1)} µs/call, ` +
        `scavenges ${report.scavengesPer10kCalls.toFixed(1)} per 10k calls, mark-compacts ${report.markCompacts} (load ${load})`,
    );
    for (const line of report.allocations ?? []) console.log(`  ${line}`);
  }
  for (const choice of ['node', 'meshos'] as const) {
    const mine = reports.filter((report) => report.http2 === choice);
    console.log(
      `${choice.padEnd(6)} median: cpu ${median(mine.map((report) => report.cpuMicrosecondsPerCall)).toFixed(1)} µs/call, ` +
        `scavenges ${median(mine.map((report) => report.scavengesPer10kCalls)).toFixed(1)} per 10k calls`,
    );
  }
}

runToExit(main);
