/**
 * Garbage at a node's ports (docs/SECURITY.md, "Fuzzed decoders"): connections to the client and
 * peer ports of a plaintext node and of a TLS node (mutual TLS peers, client certificate auth)
 * that send random bytes, damaged or cut TLS ClientHellos, damaged HTTP/2 prefaces and requests
 * (also inside a completed TLS handshake), in random pieces, then close or vanish. The nodes must
 * stay up and answer valid clients throughout, TLS refusals must be counted, and memory must stay
 * bounded. One connection at a time, a bounded count: shared by `npm run fuzz` and its sample in
 * `npm test`.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Address, formatAddress } from '../../../src/lib/index.js';
import type { MeshNode } from '../../../src/mesh/index.js';
import { seedFrom } from './describe-targets.js';
import {
  type Credentials,
  captureClientHello,
  type GarbageNodes,
  http2Request,
  startGarbageNodes,
} from './garbage-nodes.js';
import { cutAt, decoderInputs, randomBytes } from './mutations.js';

/**
 * How long a connection may stay open after the client closed its side before it counts as held:
 * generous for a loaded machine, and the wait ends as soon as the node closes.
 */
const CLOSE_DEADLINE_MS = 30_000;
/** A valid client checks every node after this many garbage connections. */
const CHECK_EVERY = 250;
/** Heap and array buffer growth allowed over the whole run, after garbage collection. */
const MEMORY_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

type Port = 'plain-client' | 'plain-peer' | 'secure-client' | 'secure-peer';

interface GarbageConnection {
  readonly port: Port;
  /** Complete a TLS handshake with valid credentials first (TLS ports only), then send the bytes. */
  readonly insideTls: boolean;
  readonly bytes: Uint8Array;
  readonly cuts: readonly number[];
  /** Close with a FIN and wait for the node to close, or vanish (RST). */
  readonly finish: 'end' | 'destroy';
}

function connectionArbitrary(hello: Uint8Array, request: Uint8Array): fc.Arbitrary<GarbageConnection> {
  const bytes = fc.oneof(
    { weight: 3, arbitrary: decoderInputs(fc.constant(hello), 2048) },
    { weight: 3, arbitrary: decoderInputs(fc.constant(request), 2048) },
    { weight: 1, arbitrary: randomBytes(4096) },
  );
  return fc.record({
    port: fc.constantFrom<Port>('plain-client', 'plain-peer', 'secure-client', 'secure-peer'),
    insideTls: fc.boolean(),
    bytes,
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    finish: fc.constantFrom<'end' | 'destroy'>('end', 'end', 'destroy'),
  });
}

interface Tally {
  sent: number;
  held: number;
  byPort: Record<Port, number>;
}

function addressOf(nodes: GarbageNodes, port: Port): { node: MeshNode; address: Address } {
  const node = port.startsWith('plain') ? nodes.plain : nodes.secure;
  return { node, address: port.endsWith('client') ? node.endpoints.client : node.endpoints.peer };
}

/** Opens the connection, sends the bytes in pieces, closes; answers whether the node closed its side in time. */
async function send(nodes: GarbageNodes, connection: GarbageConnection): Promise<boolean> {
  const { address } = addressOf(nodes, connection.port);
  const credentials: Credentials | undefined =
    connection.insideTls && connection.port.startsWith('secure')
      ? connection.port === 'secure-client'
        ? nodes.client
        : nodes.peer
      : undefined;
  const socket =
    credentials === undefined
      ? net.connect(address.port, address.host)
      : tls.connect({
          host: address.host,
          port: address.port,
          ca: credentials.ca,
          cert: credentials.cert,
          key: credentials.key,
          ALPNProtocols: connection.port === 'secure-client' ? ['h2'] : [],
          rejectUnauthorized: false,
        });
  socket.on('error', () => {});
  // Read what the node answers: a paused socket never sees the node's close.
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const ready = credentials === undefined ? 'connect' : 'secureConnect';
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => socket.once(ready, () => resolve(true))),
    closed.then(() => false),
  ]);
  if (!opened) return true;
  for (const piece of cutAt(connection.bytes, connection.cuts)) socket.write(piece);
  if (connection.finish === 'destroy') {
    socket.destroy();
    return true;
  }
  socket.end();
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_DEADLINE_MS);
    }),
  ]);
  clearTimeout(timer);
  socket.destroy();
  return inTime;
}

/** A metric's value from a node's registry, summed over its labels. */
async function metricTotal(node: MeshNode, name: string): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, sample) => sum + sample.value, 0);
}

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function memoryInUse(gc: () => void): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

export interface GarbageRunOptions {
  readonly title: string;
  readonly connections: number;
  readonly defaultSeed: number;
  readonly timeoutMs: number;
}

export function describeConnectionGarbage(options: GarbageRunOptions): void {
  const seed = seedFrom(process.env.FUZZ_SEED, options.defaultSeed);
  let nodes: GarbageNodes;
  let hello: Uint8Array;
  describe(options.title, () => {
    beforeAll(async () => {
      nodes = await startGarbageNodes();
      hello = await captureClientHello(nodes.client);
    }, 120_000);
    afterAll(async () => {
      await nodes?.close();
    }, 60_000);

    it(
      `${options.connections} garbage connections to client and peer ports, plaintext and TLS: nodes keep serving (seed ${seed})`,
      async () => {
        const started = performance.now();
        const gc = collectGarbage();
        const tally: Tally = {
          sent: 0,
          held: 0,
          byPort: { 'plain-client': 0, 'plain-peer': 0, 'secure-client': 0, 'secure-peer': 0 },
        };
        const refusedBefore = {
          client: await metricTotal(nodes.secure, 'meshos_client_tls_refused_connections'),
          peer: await metricTotal(nodes.secure, 'meshos_transport_refused_peers'),
        };
        await nodes.checkClients('garbage/before');
        const memoryBefore = memoryInUse(gc);
        const request = http2Request(formatAddress(nodes.plain.endpoints.client));
        await fc.assert(
          fc.asyncProperty(connectionArbitrary(hello, request), async (connection) => {
            if (!(await send(nodes, connection))) tally.held++;
            tally.sent++;
            tally.byPort[connection.port]++;
            if (tally.sent % CHECK_EVERY === 0) await nodes.checkClients(`garbage/${tally.sent}`);
          }),
          { numRuns: options.connections, seed, endOnFailure: true },
        );
        await nodes.checkClients('garbage/after');
        const growth = memoryInUse(gc) - memoryBefore;
        const refused = {
          client:
            (await metricTotal(nodes.secure, 'meshos_client_tls_refused_connections')) - refusedBefore.client,
          peer: (await metricTotal(nodes.secure, 'meshos_transport_refused_peers')) - refusedBefore.peer,
        };
        console.log(
          `connection garbage seed=${seed}: ${tally.sent} connections (${JSON.stringify(tally.byPort)}) in ` +
            `${((performance.now() - started) / 1000).toFixed(1)} s; held open past ${CLOSE_DEADLINE_MS} ms: ` +
            `${tally.held}; TLS refusals counted: client port ${refused.client}, peer port ${refused.peer}; ` +
            `memory growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
        );
        expect(tally.held, 'connections the node kept open after the client closed').toBe(0);
        expect(growth).toBeLessThan(MEMORY_GROWTH_LIMIT_BYTES);
        // Most garbage sent to a TLS port fails its handshake, and each such refusal is counted.
        if (tally.byPort['secure-client'] >= 20) expect(refused.client).toBeGreaterThan(0);
        if (tally.byPort['secure-peer'] >= 20) expect(refused.peer).toBeGreaterThan(0);
        expect(refused.client).toBeLessThanOrEqual(tally.byPort['secure-client']);
      },
      options.timeoutMs,
    );
  });
}
