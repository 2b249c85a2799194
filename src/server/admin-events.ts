/**
 * Server-sent events on the admin port: one producer per feed computes a snapshot every
 * `ADMIN_EVENTS_SNAPSHOT_INTERVAL_MS` while anyone listens, serialises it once and writes it to
 * every connection; a heartbeat in between tells a quiet stream from a dead one. Each connection's
 * unsent bytes are bounded: a slow reader misses snapshots (the next one replaces them) and is cut
 * off when it stays behind.
 */
import type * as http from 'node:http';
import { assert } from '../lib/index.js';

export const ADMIN_EVENTS_SNAPSHOT_INTERVAL_MS = 1_000;
export const ADMIN_EVENTS_HEARTBEAT_INTERVAL_MS = 2_000;
/** What EventSource waits before it reconnects (sent as `retry:`). */
export const ADMIN_EVENTS_RETRY_MS = 1_000;
export const ADMIN_EVENTS_MAX_CONNECTIONS = 32;
export const ADMIN_EVENTS_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Snapshots in a row a connection may miss (buffer full) before it is closed. */
export const ADMIN_EVENTS_MAX_MISSED_SNAPSHOTS = 10;
assert(
  ADMIN_EVENTS_HEARTBEAT_INTERVAL_MS > ADMIN_EVENTS_SNAPSHOT_INTERVAL_MS,
  'a heartbeat is only for when snapshots are slow',
);

/** What an event stream sends: a fresh document per snapshot. */
export interface AdminEventFeed {
  snapshot(): Promise<unknown>;
}

interface Listener {
  readonly response: http.ServerResponse;
  missed: number;
}

export class AdminEventStream {
  private readonly listeners = new Set<Listener>();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private producing = false;
  private last: string | undefined;

  constructor(private readonly feed: AdminEventFeed) {}

  get connections(): number {
    return this.listeners.size;
  }

  /** Takes `response` as a listener (503 when there are too many) until the client goes. */
  attach(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (this.listeners.size >= ADMIN_EVENTS_MAX_CONNECTIONS) {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end(`at most ${ADMIN_EVENTS_MAX_CONNECTIONS} event streams per node\n`);
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const listener: Listener = { response, missed: 0 };
    this.listeners.add(listener);
    request.socket.setNoDelay(true);
    response.write(`retry: ${ADMIN_EVENTS_RETRY_MS}\n\n`);
    if (this.last !== undefined) this.write(listener, this.last);
    response.on('close', () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopTimers();
    });
    if (this.snapshotTimer === undefined) this.startTimers();
    if (this.last === undefined) this.produce();
  }

  close(): void {
    this.stopTimers();
    for (const listener of this.listeners) listener.response.end();
    this.listeners.clear();
  }

  private startTimers(): void {
    this.snapshotTimer = setInterval(() => this.produce(), ADMIN_EVENTS_SNAPSHOT_INTERVAL_MS);
    this.heartbeatTimer = setInterval(
      () => this.broadcast(event('heartbeat', { atWallMs: Date.now() })),
      ADMIN_EVENTS_HEARTBEAT_INTERVAL_MS,
    );
    this.snapshotTimer.unref();
    this.heartbeatTimer.unref();
  }

  private stopTimers(): void {
    clearInterval(this.snapshotTimer);
    clearInterval(this.heartbeatTimer);
    this.snapshotTimer = undefined;
    this.heartbeatTimer = undefined;
    this.last = undefined;
  }

  /** One snapshot at a time: a slow one makes the next tick skip, not pile up. */
  private produce(): void {
    if (this.producing) return;
    this.producing = true;
    this.feed
      .snapshot()
      .then((document) => {
        this.last = event('snapshot', document);
        this.broadcast(this.last);
      })
      .catch((error: unknown) =>
        this.broadcast(event('problem', { message: error instanceof Error ? error.message : String(error) })),
      )
      .finally(() => {
        this.producing = false;
      });
  }

  private broadcast(text: string): void {
    for (const listener of this.listeners) this.write(listener, text);
  }

  private write(listener: Listener, text: string): void {
    const { response } = listener;
    if (response.writableLength + text.length > ADMIN_EVENTS_MAX_BUFFERED_BYTES) {
      listener.missed += 1;
      if (listener.missed > ADMIN_EVENTS_MAX_MISSED_SNAPSHOTS) response.destroy();
      return;
    }
    listener.missed = 0;
    response.write(text);
  }
}

/** One SSE message: JSON has no raw newlines, so it fits one `data:` line. */
function event(name: string, document: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(document)}\n\n`;
}
