/** Free loopback ports for a test's processes, all distinct (the OS may hand one out twice in a row). */
import * as net from 'node:net';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';

/** Draws per port before giving up; a collision is rare, so a few draws always suffice in practice. */
const DRAWS_PER_PORT = 20;

export class PortPicker {
  private readonly taken = new Set<number>();

  async next(): Promise<number> {
    for (let draw = 0; draw < DRAWS_PER_PORT; draw++) {
      const port = await findFreeLoopbackPort();
      if (this.taken.has(port)) continue;
      this.taken.add(port);
      return port;
    }
    throw new Error(`no new free loopback port in ${DRAWS_PER_PORT} draws`);
  }
}

/** Lowest and highest first port `freePortBlock` tries (below Linux's ephemeral range). */
const BLOCK_SEARCH_LOW_PORT = 20_000;
const BLOCK_SEARCH_HIGH_PORT = 30_000;
/** Blocks tried before giving up. */
const BLOCK_DRAWS = 50;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A first port `base` such that `base + offset` is free on loopback for every offset: for a
 * command that derives all its ports from one (`meshos start-local --base-port`).
 */
export async function freePortBlock(offsets: readonly number[]): Promise<number> {
  for (let draw = 0; draw < BLOCK_DRAWS; draw++) {
    const base =
      BLOCK_SEARCH_LOW_PORT + Math.floor(Math.random() * (BLOCK_SEARCH_HIGH_PORT - BLOCK_SEARCH_LOW_PORT));
    const free = await Promise.all(offsets.map((offset) => portIsFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no block of free loopback ports in ${BLOCK_DRAWS} draws`);
}
