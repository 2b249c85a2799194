import * as http from 'node:http';
import type { Registry } from 'prom-client';
import { type Address, MeshError } from '../lib/index.js';

/** What the admin port reports; answered fresh on every request. */
export interface AdminStatusSource {
  /** Serving at all: the process is up and its loops run. */
  health(): { ok: boolean; detail: Record<string, unknown> };
  /** Ready for clients: joined, caught up, and a leader is known. */
  readiness(): { ok: boolean; detail: Record<string, unknown> };
  status(): Record<string, unknown>;
  /**
   * Tests only: what makes a running service crash, or undefined when it is not running.
   * Present only on nodes started with fault injection, which serve `POST /faults/crash/<service>`.
   */
  crashService?(service: string): (() => void) | undefined;
  /** More JSON endpoints by path (`/nodes`), answered fresh on every request. */
  readonly routes?: Readonly<Record<string, () => Promise<unknown>>>;
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  /** Run once the answer is sent (a crash of the admin server itself must not cut it off). */
  readonly afterSent?: () => void;
}

export interface AdminServer {
  readonly address: Address;
  close(): Promise<void>;
}

/**
 * The per-node admin HTTP port: `/metrics` (Prometheus text), `/health`, `/ready` (200 or
 * 503 with a JSON body saying why), `/status` (JSON) and, with fault injection only,
 * `POST /faults/crash/<service>`.
 */
export async function startAdminServer(
  address: Address,
  registry: Registry,
  source: AdminStatusSource,
): Promise<AdminServer> {
  const server = http.createServer((request, response) => {
    void answer(request.method ?? 'GET', request.url ?? '/', registry, source)
      .then(({ status, type, body, afterSent }) => {
        response.writeHead(status, { 'content-type': type });
        response.end(body, afterSent);
      })
      .catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(error instanceof Error ? error.message : String(error));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new MeshError('ADMIN_LISTEN', `cannot listen on ${address.host}:${address.port}`, { cause: error }),
      ),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  return {
    address: { host: address.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const CRASH_PATH_PREFIX = '/faults/crash/';

async function answer(
  method: string,
  url: string,
  registry: Registry,
  source: AdminStatusSource,
): Promise<Answer> {
  const pathname = url.split('?')[0] ?? '/';
  if (pathname.startsWith(CRASH_PATH_PREFIX) && source.crashService !== undefined && method === 'POST') {
    return crashAnswer(decodeURIComponent(pathname.slice(CRASH_PATH_PREFIX.length)), source.crashService);
  }
  switch (pathname) {
    case '/metrics':
      return { status: 200, type: registry.contentType, body: await registry.metrics() };
    case '/health': {
      const health = source.health();
      return json(health.ok ? 200 : 503, health);
    }
    case '/ready': {
      const readiness = source.readiness();
      return json(readiness.ok ? 200 : 503, readiness);
    }
    case '/status':
      return json(200, source.status());
    default: {
      const routes = source.routes ?? {};
      const route = Object.hasOwn(routes, pathname) ? routes[pathname] : undefined;
      if (route !== undefined) return json(200, await route());
      return { status: 404, type: 'text/plain', body: `no such endpoint: ${pathname}\n` };
    }
  }
}

function crashAnswer(service: string, crashService: (service: string) => (() => void) | undefined): Answer {
  const crash = crashService(service);
  if (crash === undefined) return json(404, { service, error: 'no such running service' });
  return { ...json(202, { service, crash: 'requested' }), afterSent: crash };
}

function json(status: number, body: unknown): Answer {
  return { status, type: 'application/json', body: `${JSON.stringify(body)}\n` };
}
