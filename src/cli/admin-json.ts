/**
 * Reading a node's admin port (JSON over HTTP), for the commands that report on a cluster. Its own
 * module, apart from the local cluster's launcher, so those commands load no node code.
 */
import * as http from 'node:http';

/** Asks a node's admin port for its status; undefined when it does not answer. */
export function fetchStatus(admin: string, timeoutMs = 1_000): Promise<Record<string, unknown> | undefined> {
  return fetchAdminJson(admin, '/status', timeoutMs);
}

/** GETs a JSON endpoint of a node's admin port; undefined when it does not answer JSON in time. */
export function fetchAdminJson(
  admin: string,
  pathname: string,
  timeoutMs = 1_000,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`http://${admin}${pathname}`, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch {
          resolve(undefined);
        }
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}
