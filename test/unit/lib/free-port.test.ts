import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { findFreeLoopbackPort } from '../../../src/lib/node/index.js';

const RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('findFreeLoopbackPort', () => {
  it('answers a port that can be listened on, below the ephemeral range where the OS names it', async () => {
    const ephemeralLow = existsSync(RANGE_FILE)
      ? Number(readFileSync(RANGE_FILE, 'utf8').trim().split(/\s+/)[0])
      : undefined;
    for (let draw = 0; draw < 5; draw++) {
      const port = await findFreeLoopbackPort();
      if (ephemeralLow !== undefined && ephemeralLow > 16_000) expect(port).toBeLessThan(ephemeralLow);
      const server = await listen(port);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
