import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodesCommand } from '../../../src/cli/commands/index.js';

const REPORT = {
  reporter: 1,
  nodes: [
    {
      id: 1,
      name: 'n1',
      role: 'voter',
      zone: '',
      health: 'alive',
      leaseId: 7,
      leaseRemainingSeconds: 4,
      addresses: { peer: '127.0.0.1:7001', client: '127.0.0.1:2379', admin: '127.0.0.1:2381' },
    },
    {
      id: 1_000_000,
      name: 'w1000000',
      role: 'worker',
      zone: 'rack-2',
      health: 'suspect',
      leaseId: 8,
      addresses: { peer: '127.0.0.1:7100', admin: '127.0.0.1:7101' },
    },
  ],
};

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An admin port answering `/nodes` with `body` (and 404 elsewhere). */
async function adminPort(body: unknown): Promise<string> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/nodes') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function capture(): {
  io: { out: (line: string) => void; err: (line: string) => void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line) }, out, err };
}

describe('meshos nodes', () => {
  it('prints a table with role, zone, health and lease left', async () => {
    const { io, out } = capture();
    expect(await nodesCommand(['--endpoints', await adminPort(REPORT)], io)).toBe(0);
    expect(out[0]).toMatch(/^ID\s+NAME\s+ROLE\s+ZONE\s+HEALTH\s+LEASE\s+PEER\s+CLIENT\s+ADMIN$/);
    expect(out[1]).toMatch(
      /^1\s+n1\s+voter\s+-\s+alive\s+4s\s+127\.0\.0\.1:7001\s+127\.0\.0\.1:2379\s+127\.0\.0\.1:2381$/,
    );
    expect(out[2]).toMatch(
      /^1000000\s+w1000000\s+worker\s+rack-2\s+suspect\s+\?\s+127\.0\.0\.1:7100\s+-\s+127\.0\.0\.1:7101$/,
    );
  });

  it('prints the nodes as JSON, asking the next endpoint when one does not answer', async () => {
    const { io, out, err } = capture();
    const notAdmin = await adminPort('not a node list');
    expect(await nodesCommand(['--json', '--endpoints', `${notAdmin},${await adminPort(REPORT)}`], io)).toBe(
      0,
    );
    expect(JSON.parse(out.join(''))).toEqual(REPORT);
    expect(err).toEqual([`meshos: ${notAdmin}: no node list (not a MeshOS admin port, or not answering)`]);
  });

  it('fails with exit 1 when no endpoint answers, and 2 on a bad command line', async () => {
    const { io, err } = capture();
    expect(await nodesCommand(['--endpoints', await adminPort({ nodes: 'nope' })], io)).toBe(1);
    expect(err).toHaveLength(1);
    expect(await nodesCommand(['extra'], capture().io)).toBe(2);
    expect(await nodesCommand(['--no-such-flag'], capture().io)).toBe(2);
  });
});
