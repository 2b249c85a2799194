/** Watch service messages <-> watch hub requests and responses. */
import { compareBytes, InvalidRequestError, type WatchEvent, type WatchRequest } from '../kv/index.js';
import type { Int64Out, PbEvent, PbWatchCreateRequest } from '../protocol/index.js';
import { keyValueToPb } from './convert-kv.js';
import { int64ToNumber } from './convert-numbers.js';

/** What etcd answers when a watch's range holds no key at all. */
const EMPTY_WATCH_RANGE_REASON = 'mvcc: watcher range is empty';
/** What etcd answers when a stream already has a watch with the requested id. */
export const DUPLICATE_WATCH_ID_REASON = 'mvcc: duplicate watch ID provided on the WatchStream';

export interface WatchCreate {
  readonly request: WatchRequest;
  /** The id the client asked for, as a decimal; undefined to let the stream pick. */
  readonly watchId: string | undefined;
  readonly progressNotify: boolean;
  /** Events before this revision are not sent (the hub may hold earlier ones for a future start). */
  readonly startRevision: number;
}

const ALL_KEYS = new Uint8Array([0]);

function isAllKeys(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0;
}

/** Converts a create request; throws `InvalidRequestError` with etcd's reason for an empty range. */
export function watchCreateFromPb(pb: PbWatchCreateRequest): WatchCreate {
  // As in etcd: an empty key is the smallest key "\0", and a range end of "\0" means "every key >= key".
  const key = pb.key.length === 0 ? ALL_KEYS : pb.key;
  const request: { -readonly [K in keyof WatchRequest]: WatchRequest[K] } = { key };
  if (pb.range_end.length > 0) {
    if (!isAllKeys(pb.range_end) && compareBytes(key, pb.range_end) >= 0) {
      throw new InvalidRequestError(EMPTY_WATCH_RANGE_REASON);
    }
    request.rangeEnd = pb.range_end;
  }
  const startRevision = int64ToNumber('start_revision', pb.start_revision);
  if (startRevision > 0) request.startRevision = startRevision;
  if (pb.prev_kv) request.prevKv = true;
  for (const filter of pb.filters) {
    if (filter === 'Noput') request.noPut = true;
    else if (filter === 'Nodelete') request.noDelete = true;
    else throw new InvalidRequestError(`unknown watch filter ${String(filter)}`);
  }
  const requestedId = int64ToNumber('watch_id', pb.watch_id);
  return {
    request,
    watchId: requestedId === 0 ? undefined : String(requestedId),
    progressNotify: pb.progress_notify,
    startRevision,
  };
}

export function watchEventToPb(event: WatchEvent): PbEvent<Int64Out> {
  const pb: PbEvent<Int64Out> = { type: event.type === 'put' ? 'Put' : 'Delete', kv: keyValueToPb(event.kv) };
  return event.prevKv === undefined ? pb : { ...pb, prev_kv: keyValueToPb(event.prevKv) };
}
