import * as http from 'node:http';
import type { Registry } from 'prom-client';
import { type Address, MeshError } from '../lib/index.js';
import { type AdminEventFeed, AdminEventStream } from './admin-events.js';
import { type AdminFiles, fileAnswer } from './admin-files.js';

/** Largest JSON body a POST to the admin port may carry. */
export const ADMIN_MAX_REQUEST_BYTES = 64 * 1024;

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
  /**
   * Operator actions by path (`POST /actions/maintenance`): the JSON body in, a JSON answer out;
   * a `MeshError` answers 400 with its code. Only `content-type: application/json` is taken, which
   * a page of another origin cannot send without the browser asking first.
   */
  readonly actions?: Readonly<Record<string, (body: unknown) => Promise<unknown>>>;
  /** Server-sent event streams by path (`/deck/events`), a snapshot a second while listened to. */
  readonly eventStreams?: Readonly<Record<string, AdminEventFeed>>;
  /** Fixed files served by path (the Deck's page and bundle). */
  readonly files?: AdminFiles;
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
  const streams = new Map(
    Object.entries(source.eventStreams ?? {}).map(([path, feed]) => [path, new AdminEventStream(feed)]),
  );
  const server = http.createServer((request, response) => {
    const stream = streams.get(pathOf(request.url ?? '/'));
    if (stream !== undefined && request.method === 'GET') {
      stream.attach(request, response);
      return;
    }
    void answer(request, registry, source)
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
        for (const stream of streams.values()) stream.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const CRASH_PATH_PREFIX = '/faults/crash/';

const pathOf = (url: string): string => url.split('?')[0] ?? '/';

async function answer(
  request: http.IncomingMessage,
  registry: Registry,
  source: AdminStatusSource,
): Promise<Answer> {
  const method = request.method ?? 'GET';
  const pathname = pathOf(request.url ?? '/');
  const action =
    source.actions !== undefined && Object.hasOwn(source.actions, pathname)
      ? source.actions[pathname]
      : undefined;
  if (action !== undefined)
    return method === 'POST' ? actionAnswer(request, action) : json(405, { error: 'POST only' });
  const file = source.files === undefined ? undefined : await fileAnswer(source.files, pathname);
  if (file !== undefined) return file;
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

async function actionAnswer(
  request: http.IncomingMessage,
  action: (body: unknown) => Promise<unknown>,
): Promise<Answer> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    return json(415, { code: 'ADMIN_BAD_REQUEST', error: 'send the body as application/json' });
  let body: unknown;
  try {
    body = JSON.parse(await requestText(request));
  } catch (error) {
    return json(400, {
      code: 'ADMIN_BAD_REQUEST',
      error: error instanceof Error ? error.message : String(error),
    });
  }
  try {
    return json(200, await action(body));
  } catch (error) {
    if (error instanceof MeshError) return json(400, { code: error.code, error: error.message });
    throw error;
  }
}

/** The request's body as text, refused past `ADMIN_MAX_REQUEST_BYTES`. */
async function requestText(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > ADMIN_MAX_REQUEST_BYTES) throw new Error(`the body is over ${ADMIN_MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(status: number, body: unknown): Answer {
  return { status, type: 'application/json', body: `${JSON.stringify(body)}\n` };
}
