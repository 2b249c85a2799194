/**
 * One client Watch stream: many watches multiplexed on one bidirectional call, with ids local to
 * the stream. Each watch forwards its hub watcher's responses in order; a stream that cannot write
 * (the client reads slowly) stops draining its watchers, whose bounded buffers then fill and the hub
 * cancels them as slow, which the client sees as a cancellation with a reason.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Watcher, WatchResponse } from '../kv/index.js';
import { isMeshError, type Logger } from '../lib/index.js';
import type { Int64Out, PbWatchCreateRequest, PbWatchRequest, PbWatchResponse } from '../protocol/index.js';
import { responseHeader } from './convert-header.js';
import { DUPLICATE_WATCH_ID_REASON, watchCreateFromPb, watchEventToPb } from './convert-watch.js';
import { ETCD_ERRORS, grpcFailureOf } from './error-map.js';
import { writable } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';
import { MAX_WATCHES_PER_STREAM } from './limits.js';
import { callerOf } from './request-auth.js';

export type WatchCall = grpc.ServerDuplexStream<PbWatchRequest, PbWatchResponse<Int64Out>>;

interface StreamWatch {
  readonly id: string;
  readonly watcher: Watcher;
  readonly progressNotify: boolean;
  readonly startRevision: number;
  /** Waiting for the call to drain before taking the next response. */
  blocked: boolean;
  /** Something was sent since the last periodic progress check. */
  active: boolean;
  canceledByClient: boolean;
}

export class WatchStreamSession {
  private readonly watches = new Map<string, StreamWatch>();
  private nextAutoId = 0;
  private closed = false;
  private readonly closedSignal: Promise<void>;
  private signalClosed: () => void = () => {};

  constructor(
    private readonly call: WatchCall,
    private readonly backend: KvBackend,
    private readonly logger: Logger,
    private readonly onClose: (session: WatchStreamSession) => void,
  ) {
    this.closedSignal = new Promise((resolve) => {
      this.signalClosed = resolve;
    });
    call.on('data', (request: PbWatchRequest) => this.handle(request));
    call.on('end', () => {
      this.close();
      call.end();
    });
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
  }

  get watchCount(): number {
    return this.watches.size;
  }

  /** Cancels every watch and stops writing; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signalClosed();
    for (const watch of this.watches.values()) watch.watcher.cancel();
    this.watches.clear();
    this.onClose(this);
  }

  /** Ends the call from the server side (shutdown). */
  end(): void {
    this.close();
    this.call.end();
  }

  /** Periodic progress for idle watches that asked for it. */
  progressTick(): void {
    for (const watch of this.watches.values()) {
      if (watch.progressNotify && !watch.active) this.sendProgress(watch);
      watch.active = false;
    }
  }

  private handle(request: PbWatchRequest): void {
    if (this.closed) return;
    switch (request.request_union) {
      case 'create_request':
        if (request.create_request !== undefined) this.create(request.create_request);
        return;
      case 'cancel_request': {
        const id = String(request.cancel_request?.watch_id ?? '');
        const watch = this.watches.get(id);
        if (watch === undefined) return;
        watch.canceledByClient = true;
        watch.watcher.cancel();
        return;
      }
      case 'progress_request':
        // Answered per watch, so clients that route every response by watch id can take it.
        for (const watch of this.watches.values()) this.sendProgress(watch);
        return;
      default:
        return;
    }
  }

  private create(pb: PbWatchCreateRequest): void {
    let watcher: Watcher;
    let id: string;
    let created: ReturnType<typeof watchCreateFromPb>;
    try {
      created = watchCreateFromPb(pb);
      if (created.watchId !== undefined && this.watches.has(created.watchId)) {
        this.refuse(DUPLICATE_WATCH_ID_REASON);
        return;
      }
      if (this.watches.size >= MAX_WATCHES_PER_STREAM) {
        this.refuse(ETCD_ERRORS.tooManyRequests.message);
        return;
      }
      id = created.watchId ?? this.autoId();
      watcher = this.backend.watch(created.request, callerOf(this.backend, this.call.metadata, 'Watch'));
    } catch (error) {
      // Refused on the stream rather than thrown: a throw here would escape the call's event handler.
      if (!isMeshError(error)) this.logger.error({ err: error }, 'etcd api: watch create failed');
      const reason =
        isMeshError(error, 'KV_INVALID_REQUEST') && typeof error.details.problem === 'string'
          ? error.details.problem
          : grpcFailureOf(error).message;
      this.refuse(reason);
      return;
    }
    const watch: StreamWatch = {
      id,
      watcher,
      progressNotify: created.progressNotify,
      startRevision: created.startRevision,
      blocked: false,
      active: true,
      canceledByClient: false,
    };
    this.watches.set(id, watch);
    // Written before the forwarding loop takes its first response, so "created" always comes first.
    this.call.write(this.response(id, this.backend.currentRevision(), { created: true }));
    void this.forward(watch);
  }

  private autoId(): string {
    while (this.watches.has(String(this.nextAutoId))) this.nextAutoId++;
    return String(this.nextAutoId++);
  }

  private refuse(reason: string): void {
    this.call.write(
      this.response('-1', this.backend.currentRevision(), {
        created: true,
        canceled: true,
        cancel_reason: reason,
      }),
    );
  }

  private async forward(watch: StreamWatch): Promise<void> {
    try {
      for (;;) {
        const next = await watch.watcher.next();
        if (next.done === true || this.closed) return;
        const pb = this.toPb(watch, next.value);
        if (pb !== undefined) {
          watch.active = true;
          if (!this.call.write(pb)) {
            watch.blocked = true;
            await writable(this.call, this.closedSignal);
            watch.blocked = false;
          }
        }
        if (next.value.canceled === true) return;
      }
    } catch (error) {
      this.logger.error({ err: error, watchId: watch.id }, 'etcd api: watch forwarding failed');
      watch.watcher.cancel();
    } finally {
      if (this.watches.get(watch.id) === watch) this.watches.delete(watch.id);
    }
  }

  private toPb(watch: StreamWatch, response: WatchResponse): PbWatchResponse<Int64Out> | undefined {
    if (response.canceled === true) {
      if (response.compactRevision !== undefined) {
        return this.response(watch.id, response.revision, {
          canceled: true,
          compact_revision: response.compactRevision,
          cancel_reason: ETCD_ERRORS.compacted.message,
        });
      }
      const reason = watch.canceledByClient ? '' : (response.cancelReason ?? '');
      return this.response(watch.id, response.revision, { canceled: true, cancel_reason: reason });
    }
    const events = response.events.filter((event) => event.kv.modRevision >= watch.startRevision);
    // A response whose every event was before the requested start is dropped, unless it is progress.
    if (events.length === 0 && response.progress !== true) return undefined;
    return this.response(watch.id, response.revision, { events: events.map(watchEventToPb) });
  }

  /**
   * Progress at the current revision, only when the watch has nothing on its way to the client:
   * synced, nothing buffered, not waiting on a write. Responses handed to the forwarding loop are
   * written before any timer or request callback runs, so none can be overtaken.
   */
  private sendProgress(watch: StreamWatch): void {
    if (this.closed || watch.blocked || !watch.watcher.synced || watch.watcher.pendingResponses > 0) return;
    watch.active = true;
    this.call.write(this.response(watch.id, this.backend.currentRevision(), {}));
  }

  private response(
    id: string,
    revision: number,
    fields: Partial<PbWatchResponse<Int64Out>>,
  ): PbWatchResponse<Int64Out> {
    return {
      header: responseHeader(this.backend, revision),
      watch_id: id,
      created: false,
      canceled: false,
      compact_revision: 0,
      cancel_reason: '',
      events: [],
      ...fields,
    };
  }
}
