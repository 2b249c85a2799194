/**
 * The blobs as the reconciler reads them at the start of each pass, without a round trip: it
 * follows `blobs/` and `blob-heat/` (list, then watch) and answers, synchronously, what
 * `observeBlobs` makes of them now. It starts following at its first read (only the node holding
 * the reconciler seat reads it), and says when a blob record changed (a put, a delete, a copy
 * made or lost: a pass is worth running); heat rows change every few seconds and are read by the
 * next pass instead. Records that do not decode are logged once per revision and skipped.
 */
import {
  type BlobHeatRow,
  type BlobRecord,
  observeBlobs,
  readBlobHeatRow,
  readBlobRecord,
} from '../blobs/index.js';
import {
  type ControlEntry,
  type ControlPlane,
  KEYSPACE_PREFIXES,
  PrefixFollower,
  type RecordReader,
  readRecord,
} from '../control/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { BlobSpec, ObservedBlob } from '../reconcile/index.js';

/** Decodes the entries of a follower, keeping each decoded record until its key changes. */
class DecodedEntries<T> {
  private readonly decoded = new Map<
    string,
    { readonly modRevision: number; readonly value: T | undefined }
  >();

  constructor(
    private readonly read: RecordReader<T>,
    private readonly logger?: Logger,
  ) {}

  values(entries: ReadonlyMap<string, ControlEntry>): T[] {
    const values: T[] = [];
    for (const [key, entry] of entries) {
      let cached = this.decoded.get(key);
      if (cached?.modRevision !== entry.modRevision) {
        cached = { modRevision: entry.modRevision, value: this.decode(entry) };
        this.decoded.set(key, cached);
      }
      if (cached.value !== undefined) values.push(cached.value);
    }
    for (const key of this.decoded.keys()) if (!entries.has(key)) this.decoded.delete(key);
    return values;
  }

  private decode(entry: ControlEntry): T | undefined {
    try {
      return readRecord(entry.key, entry.value, this.read);
    } catch (error) {
      this.logger?.warn({ err: error, key: entry.key }, 'blobs: skipping a record that does not decode');
      return undefined;
    }
  }
}

export class BlobStateFollower {
  private followers: { readonly records: PrefixFollower; readonly heat: PrefixFollower } | undefined;
  private readonly records: DecodedEntries<BlobRecord>;
  private readonly rows: DecodedEntries<BlobHeatRow>;
  private readonly listeners = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly plane: ControlPlane,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.records = new DecodedEntries(readBlobRecord, logger);
    this.rows = new DecodedEntries(readBlobHeatRow, logger);
  }

  /** The blobs observed and asked for now (none until the first listing arrived). */
  state(): { readonly observed: ObservedBlob[]; readonly desired: BlobSpec[] } {
    const followers = this.follow();
    if (followers === undefined) return { observed: [], desired: [] };
    return observeBlobs(
      this.records.values(followers.records.entries),
      this.rows.values(followers.heat.entries),
      this.clock.wallMs(),
    );
  }

  /** Calls `listener` when a blob record changed; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    this.followers?.records.stop();
    this.followers?.heat.stop();
  }

  private follow(): { readonly records: PrefixFollower; readonly heat: PrefixFollower } | undefined {
    if (this.stopped) return undefined;
    if (this.followers === undefined) {
      const changed = (): void => {
        for (const listener of this.listeners) listener();
      };
      const onError = (error: Error): void =>
        this.logger?.error({ err: error }, 'blobs: following the records stopped');
      this.followers = {
        records: new PrefixFollower(
          this.plane,
          KEYSPACE_PREFIXES.blobs,
          { onReset: changed, onEvent: changed, onError },
          { clock: this.clock },
        ),
        heat: new PrefixFollower(
          this.plane,
          KEYSPACE_PREFIXES.blobHeat,
          { onReset: () => undefined, onError },
          {
            clock: this.clock,
          },
        ),
      };
    }
    return this.followers;
  }
}
