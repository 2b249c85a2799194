/** Free loopback ports for a test's processes, all distinct (the OS may hand one out twice in a row). */
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
