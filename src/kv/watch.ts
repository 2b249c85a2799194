/**
 * Node-local watch fan-out, fed by the events of each apply. Not replicated. A watcher that starts
 * in the past is "unsynced" and reads history a bounded step at a time as its consumer drains it;
 * once it reaches the current revision it is "synced" and receives published events. Every watcher
 * has a bounded buffer: a synced watcher that falls behind by more than it is cancelled with a
 * reason, so a slow consumer never blocks apply nor grows memory.
 */
import { assert, MeshError } from '../lib/index.js';
import type { KvEvent } from './events.js';
import { MAX_WATCHERS, WATCH_BUFFER_EVENTS, WATCH_CATCH_UP_BATCH_EVENTS } from './limits.js';
import type { KeyValue } from './types.js';
import { type KeyRange, resolveRange } from './validate.js';

export interface WatchRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prefix?: boolean;
  /** First revision to deliver; 0 for "from the next change". */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

export interface WatchResponse {
  readonly watchId: number;
  /** Store revision when the response was produced. */
  readonly revision: number;
  readonly events: readonly WatchEvent[];
  /** A progress notification: nothing for this watcher up to `revision`. */
  readonly progress?: true;
  readonly canceled?: true;
  readonly cancelReason?: string;
  /** Set when cancelled because its next revision was compacted away. */
  readonly compactRevision?: number;
}

/** What the hub reads from the state machine: revisions and bounded history steps. */
export interface WatchSource {
  readonly revision: number;
  readonly compactRevision: number;
  history(
    range: KeyRange,
    fromRevision: number,
    maxEvents: number,
  ): { events: KvEvent[]; nextRevision: number };
}

export interface WatchHubOptions {
  readonly bufferEvents?: number;
  readonly catchUpBatchEvents?: number;
  readonly maxWatchers?: number;
}

export class TooManyWatchersError extends MeshError {
  constructor(limit: number) {
    super('KV_TOO_MANY_WATCHERS', `watcher limit of ${limit} reached`, { details: { limit } });
  }
}

export type CancelReason = 'slow' | 'compacted' | 'client';

export interface WatchHubStats {
  readonly watchers: number;
  readonly canceledSlow: number;
  readonly canceledCompacted: number;
}

export class Watcher implements AsyncIterable<WatchResponse> {
  private readonly queue: WatchResponse[] = [];
  private bufferedEventCount = 0;
  private waiting: ((result: IteratorResult<WatchResponse>) => void) | undefined;
  private finished = false;
  /** Next revision to read from history while unsynced. */
  nextRevision: number;
  synced = false;

  constructor(
    readonly id: number,
    readonly range: KeyRange,
    readonly request: WatchRequest,
    startRevision: number,
    private readonly hub: WatchHub,
  ) {
    this.nextRevision = startRevision;
  }

  get canceled(): boolean {
    return this.finished;
  }

  get bufferedEvents(): number {
    return this.bufferedEventCount;
  }

  get pendingResponses(): number {
    return this.queue.length;
  }

  /** @internal Queues a response for the consumer (or hands it to a waiting `next()`). */
  push(response: WatchResponse): void {
    if (response.canceled === true) this.finished = true;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting({ value: response, done: false });
      return;
    }
    this.queue.push(response);
    this.bufferedEventCount += response.events.length;
  }

  /** Takes the next response if one is ready. */
  poll(): WatchResponse | undefined {
    const response = this.queue.shift();
    if (response !== undefined) {
      this.bufferedEventCount -= response.events.length;
      if (!this.synced && !this.finished) this.hub.catchUp(this);
    }
    return response;
  }

  /** Takes every ready response. */
  drain(): WatchResponse[] {
    const responses: WatchResponse[] = [];
    for (let response = this.poll(); response !== undefined; response = this.poll()) responses.push(response);
    return responses;
  }

  next(): Promise<IteratorResult<WatchResponse>> {
    const response = this.poll();
    if (response !== undefined) return Promise.resolve({ value: response, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    assert(this.waiting === undefined, 'watcher: next() called while another next() is pending');
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Iterates responses; leaving the loop early cancels the watch. */
  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return {
      next: () => this.next(),
      return: () => {
        if (!this.finished) this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Cancels the watch (the consumer sees a final cancelled response). */
  cancel(): void {
    this.hub.cancel(this.id, 'client');
  }
}

export class WatchHub {
  private readonly watchers = new Map<number, Watcher>();
  /** Synced single-key watchers by key; ranges are checked one by one. */
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly rangeWatchers = new Set<Watcher>();
  /**
   * `rangeWatchers` as an array, made again after a change: every apply walks it, and walking
   * the set made an iterator result per watcher per event.
   */
  private rangeWatcherList: Watcher[] | undefined;
  private nextWatchId = 1;
  private readonly bufferEvents: number;
  private readonly catchUpBatchEvents: number;
  private readonly maxWatchers: number;
  private canceledSlow = 0;
  private canceledCompacted = 0;

  constructor(
    private readonly source: WatchSource,
    options: WatchHubOptions = {},
  ) {
    this.bufferEvents = options.bufferEvents ?? WATCH_BUFFER_EVENTS;
    this.catchUpBatchEvents = Math.min(
      options.catchUpBatchEvents ?? WATCH_CATCH_UP_BATCH_EVENTS,
      this.bufferEvents,
    );
    this.maxWatchers = options.maxWatchers ?? MAX_WATCHERS;
    assert(this.bufferEvents >= 1 && this.catchUpBatchEvents >= 1, 'watch buffer sizes must be >= 1');
  }

  get stats(): WatchHubStats {
    return {
      watchers: this.watchers.size,
      canceledSlow: this.canceledSlow,
      canceledCompacted: this.canceledCompacted,
    };
  }

  /**
   * Starts a watch. A start revision that was compacted gives a watcher whose only response is a
   * cancellation carrying the compact revision, as etcd's watch stream reports it.
   */
  watch(request: WatchRequest): Watcher {
    if (this.watchers.size >= this.maxWatchers) throw new TooManyWatchersError(this.maxWatchers);
    const range = resolveRange(request.key, request.rangeEnd, request.prefix);
    const current = this.source.revision;
    const requested = request.startRevision ?? 0;
    const start = requested <= 0 ? current + 1 : requested;
    const watcher = new Watcher(this.nextWatchId++, range, request, start, this);
    this.watchers.set(watcher.id, watcher);
    if (start > current) this.markSynced(watcher);
    else this.catchUp(watcher);
    return watcher;
  }

  private markSynced(watcher: Watcher): void {
    watcher.synced = true;
    if (watcher.range.single) {
      let set = this.byKey.get(watcher.range.start);
      if (set === undefined) {
        set = new Set();
        this.byKey.set(watcher.range.start, set);
      }
      set.add(watcher);
    } else {
      this.rangeWatchers.add(watcher);
      this.rangeWatcherList = undefined;
    }
  }

  /**
   * The store was replaced in place by a snapshot's state (a follower installing its leader's
   * snapshot), at a later revision, with no events published for the revisions between. Every
   * synced watcher had seen everything up to `previousRevision`: it reads on from there through
   * the store's history like a watcher started in the past, or is cancelled as compacted when
   * the snapshot no longer holds that history (its owner lists again). Without this, it would
   * silently miss every change the snapshot carried.
   */
  restored(previousRevision: number): void {
    for (const watcher of [...this.watchers.values()]) {
      if (!watcher.synced) continue;
      this.unmarkSynced(watcher);
      watcher.nextRevision = Math.max(watcher.nextRevision, previousRevision + 1);
      this.catchUp(watcher);
    }
  }

  private unmarkSynced(watcher: Watcher): void {
    watcher.synced = false;
    if (watcher.range.single) {
      const set = this.byKey.get(watcher.range.start);
      set?.delete(watcher);
      if (set?.size === 0) this.byKey.delete(watcher.range.start);
    } else {
      this.rangeWatchers.delete(watcher);
      this.rangeWatcherList = undefined;
    }
  }

  /** @internal Reads history into an unsynced watcher's buffer until full or caught up. */
  catchUp(watcher: Watcher): void {
    while (!watcher.canceled && !watcher.synced && watcher.bufferedEvents < this.bufferEvents) {
      if (watcher.nextRevision < this.source.compactRevision) {
        this.cancel(watcher.id, 'compacted');
        return;
      }
      if (watcher.nextRevision > this.source.revision) {
        this.markSynced(watcher);
        return;
      }
      const room = Math.min(this.catchUpBatchEvents, this.bufferEvents - watcher.bufferedEvents);
      const { events, nextRevision } = this.source.history(watcher.range, watcher.nextRevision, room);
      assert(nextRevision > watcher.nextRevision, 'watch history made no progress');
      watcher.nextRevision = nextRevision;
      this.deliverGrouped(watcher, events);
    }
  }

  /** Queues events (ordered by revision) as one response per revision, after the filters. */
  private deliverGrouped(watcher: Watcher, events: readonly KvEvent[]): void {
    let batch: WatchEvent[] = [];
    let batchRevision = 0;
    for (const event of events) {
      if (event.revision !== batchRevision && batch.length > 0) {
        watcher.push({ watchId: watcher.id, revision: batchRevision, events: batch });
        batch = [];
      }
      batchRevision = event.revision;
      const shaped = this.shape(watcher, event);
      if (shaped !== undefined) batch.push(shaped);
    }
    if (batch.length > 0) watcher.push({ watchId: watcher.id, revision: batchRevision, events: batch });
  }

  private shape(watcher: Watcher, event: KvEvent): WatchEvent | undefined {
    // A watch that starts at a future revision sees nothing before it.
    if (event.revision < (watcher.request.startRevision ?? 0)) return undefined;
    if (event.type === 'put' && watcher.request.noPut === true) return undefined;
    if (event.type === 'delete' && watcher.request.noDelete === true) return undefined;
    if (watcher.request.prevKv === true) {
      const prevKv = event.prevKv;
      if (prevKv !== undefined) return { type: event.type, kv: event.kv, prevKv };
    }
    return { type: event.type, kv: event.kv };
  }

  /** Fans out the events of one apply (all at `revision`) to synced watchers. */
  publish(events: readonly KvEvent[], revision: number): void {
    if (events.length === 0 || this.watchers.size === 0) return;
    // Made on the first match: most applies under a put load match no watcher.
    let matched: Map<Watcher, WatchEvent[]> | undefined;
    const add = (watcher: Watcher, event: KvEvent): void => {
      const shaped = this.shape(watcher, event);
      if (shaped === undefined) return;
      matched ??= new Map();
      const list = matched.get(watcher);
      if (list === undefined) matched.set(watcher, [shaped]);
      else list.push(shaped);
    };
    this.rangeWatcherList ??= [...this.rangeWatchers];
    const rangeWatchers = this.rangeWatcherList;
    for (const event of events) {
      const keyWatchers = this.byKey.get(event.key);
      if (keyWatchers !== undefined) for (const watcher of keyWatchers) add(watcher, event);
      for (let index = 0; index < rangeWatchers.length; index++) {
        const watcher = rangeWatchers[index] as Watcher;
        const range = watcher.range;
        if (event.key >= range.start && (range.end === null || event.key < range.end)) add(watcher, event);
      }
    }
    if (matched === undefined) return;
    for (const [watcher, list] of matched) {
      if (watcher.bufferedEvents > 0 && watcher.bufferedEvents + list.length > this.bufferEvents) {
        this.cancel(watcher.id, 'slow');
        continue;
      }
      watcher.push({ watchId: watcher.id, revision, events: list });
    }
  }

  /** Tells every idle synced watcher (nothing buffered) that it has seen everything up to now. */
  progress(): void {
    const revision = this.source.revision;
    for (const watcher of this.watchers.values()) {
      if (watcher.synced && watcher.pendingResponses === 0) {
        watcher.push({ watchId: watcher.id, revision, events: [], progress: true });
      }
    }
  }

  cancel(watchId: number, reason: CancelReason): boolean {
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return false;
    this.watchers.delete(watchId);
    this.unmarkSynced(watcher);
    const revision = this.source.revision;
    if (reason === 'compacted') {
      this.canceledCompacted++;
      watcher.push({
        watchId,
        revision,
        events: [],
        canceled: true,
        cancelReason: `required revision ${watcher.nextRevision} has been compacted`,
        compactRevision: this.source.compactRevision,
      });
    } else if (reason === 'slow') {
      this.canceledSlow++;
      watcher.push({
        watchId,
        revision,
        events: [],
        canceled: true,
        cancelReason: `watcher fell behind by more than ${this.bufferEvents} buffered events`,
      });
    } else {
      watcher.push({ watchId, revision, events: [], canceled: true, cancelReason: 'canceled by the client' });
    }
    return true;
  }

  /** Watchers ordered by id, for status views. */
  list(): Watcher[] {
    return [...this.watchers.values()].sort((left, right) => left.id - right.id);
  }
}
