/**
 * A node start that fails on a port someone else holds: the start must reject with the typed
 * error naming the port, and leave the data directory's lock and the peer port free again.
 */
import * as net from 'node:net';
import { expect } from 'vitest';
import { type Address, isMeshError } from '../../src/lib/index.js';
import { DataDirectoryLock } from '../../src/mesh/index.js';

/** Whether something can listen on `address` now (nothing holds it). */
export async function canListen(address: Address): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(address.port, address.host, () => server.close(() => resolve(true)));
  });
}

/**
 * Holds a loopback port while `start(port)` runs and checks that it failed with `code` naming
 * that port, then that `dataDirectory`'s lock and `peerAddress` were released.
 */
export async function expectStartFailsOnTakenPort(
  code: string,
  released: { readonly dataDirectory: string; readonly peerAddress: Address },
  start: (takenPort: number) => Promise<unknown>,
): Promise<void> {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const takenPort = (taken.address() as net.AddressInfo).port;
  try {
    const error = await start(takenPort).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isMeshError(error, code)).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${takenPort}`);
  } finally {
    taken.close();
  }
  // What had started before the failing service was stopped in reverse order.
  expect(await canListen(released.peerAddress)).toBe(true);
  const lock = await DataDirectoryLock.acquire(released.dataDirectory);
  await lock.release();
}
