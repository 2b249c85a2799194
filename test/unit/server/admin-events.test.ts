/**
 * The admin port's event streams and actions: snapshots every second shared by listeners, a
 * bounded number of streams, POST actions taking only JSON and answering typed errors.
 */
import * as http from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/lib/index.js';
import { ADMIN_EVENTS_MAX_CONNECTIONS } from '../../../src/server/admin-events.js';
import { type AdminServer, startAdminServer } from '../../../src/server/index.js';
import { until } from '../../support/until.js';

const source = (snapshots: { count: number }) => ({
  health: () => ({ ok: true, detail: {} }),
  readiness: () => ({ ok: true, detail: {} }),
  status: () => ({}),
  eventStreams: {
    '/events': {
      snapshot: async () => {
        snapshots.count += 1;
        return { schemaVersion: 1, number: snapshots.count };
      },
    },
  },
  actions: {
    '/actions/echo': async (body: unknown) => {
      if (typeof body !== 'object' || body === null)
        throw new ValidationError('echo request', ['must be an object']);
      return { echoed: body };
    },
  },
});

/** Opens a stream and collects the text it receives. */
function listen(
  port: number,
): Promise<{ status: number; type: string; text: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/events' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('error', () => {});
      resolve({
        status: response.statusCode ?? 0,
        type: String(response.headers['content-type']),
        text: () => text,
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

describe('admin event streams and actions', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sends every listener the same snapshots, one producer for all, and refuses streams past the limit', async () => {
    const snapshots = { count: 0 };
    server = await startAdminServer({ host: '127.0.0.1', port: 0 }, new Registry(), source(snapshots));
    const first = await listen(server.address.port);
    const second = await listen(server.address.port);
    expect(first.status).toBe(200);
    expect(first.type).toBe('text/event-stream');
    const numbers = (text: string) =>
      [...text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)].map(
        (match) => JSON.parse(match[1]!).number as number,
      );
    await until(
      () => numbers(first.text()).length >= 3 && numbers(second.text()).length >= 2,
      'three snapshots',
    );
    expect(first.text().startsWith('retry: 1000\n\n')).toBe(true);
    // One producer: the snapshots counted are the ones sent, not one per listener.
    expect(Math.max(...numbers(first.text()))).toBeLessThanOrEqual(snapshots.count);
    expect(numbers(second.text()).every((number) => numbers(first.text()).includes(number))).toBe(true);
    const more = [];
    for (let index = 2; index < ADMIN_EVENTS_MAX_CONNECTIONS; index++)
      more.push(await listen(server.address.port));
    const refused = await listen(server.address.port);
    expect(refused.status).toBe(503);
    for (const stream of [first, second, ...more, refused]) stream.close();
  });

  it('takes actions as JSON only, answering a typed error for a bad body', async () => {
    server = await startAdminServer({ host: '127.0.0.1', port: 0 }, new Registry(), source({ count: 0 }));
    const url = `http://127.0.0.1:${server.address.port}/actions/echo`;
    const post = (body: string, type = 'application/json') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const ok = await post('{"node":2}');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ echoed: { node: 2 } });
    expect((await post('{"node":2}', 'text/plain')).status).toBe(415);
    const notJson = await post('{node');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'ADMIN_BAD_REQUEST' });
    const refused = await post('null');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await fetch(url)).status).toBe(405);
  });
});
