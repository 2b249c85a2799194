import { type Address, type Clock, type Network, SeededRandom } from '../../../src/lib/index.js';
import { PeerTransport, type PeerTransportOptions } from '../../../src/transport/index.js';

export const CLUSTER_ID = 'test-cluster';

/** Resolves with the first value an event handler receives that matches `accept`. */
export function nextEvent<T>(
  register: (handler: (value: T) => void) => void,
  accept: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    let done = false;
    register((value) => {
      if (!done && accept(value)) {
        done = true;
        resolve(value);
      }
    });
  });
}

/** Resolves once `count` messages have arrived at `transport`, with them in arrival order. */
export function collectMessages(
  transport: PeerTransport,
  count: number,
): Promise<Array<{ from: number; payload: Uint8Array }>> {
  const received: Array<{ from: number; payload: Uint8Array }> = [];
  return new Promise((resolve) => {
    transport.onMessage((from, payload) => {
      received.push({ from, payload: payload.slice() });
      if (received.length === count) resolve(received);
    });
  });
}

export function memoryAddress(nodeId: number): Address {
  return { host: `node-${nodeId}`, port: 7000 };
}

export function memoryTransport(
  network: Network,
  clock: Clock,
  nodeId: number,
  overrides: Partial<PeerTransportOptions> = {},
): PeerTransport {
  return new PeerTransport({
    nodeId,
    clusterId: CLUSTER_ID,
    listenAddress: memoryAddress(nodeId),
    network,
    clock,
    random: new SeededRandom(nodeId),
    security: { kind: 'insecure' },
    ...overrides,
  });
}

export function encodeText(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
