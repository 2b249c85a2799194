/**
 * A node's blobs (docs/BLOBS.md): its store on disk, the records in the control plane, its read
 * heat and the copies it makes and serves for other nodes over the blobs channel. It serves the
 * node's `BlobsBackend` (put, get, status, list, remove) and carries out the blobs owner's
 * actions (migrate a copy, cool a blob).
 *
 * A put is acknowledged once `replicas` nodes hold a durable, checked copy (this node first, the
 * others fetched from it, nearest first) and the record names them. A get serves this node's copy
 * when it has a good one, else fetches one from the live holders nearest first (RTT), each checked
 * before a byte is served; a corrupt copy is reported by its holder, which drops it and leaves the
 * holders, so reconcile makes a new one.
 */
import type { BlobPutResult, BlobRead, BlobsBackend } from '../api/blobs-backend.js';
import {
  BLOB_CHUNK_BYTES,
  BLOB_DROP_TIMEOUT_MS,
  BLOB_HEAT_PER_READ,
  BLOB_HEAT_PUBLISH_INTERVAL_MS,
  BLOB_ORPHAN_GRACE_MS,
  BLOB_REPLICATE_TIMEOUT_MS,
  BlobCopyListedError,
  BlobCopyNeededError,
  type BlobHeatRow,
  type BlobId,
  BlobNotFoundError,
  type BlobRecord,
  BlobReplicasUnavailableError,
  type BlobStatus,
  type BlobStore,
  blobStatusOf,
  checkBlobId,
  decayedHeat,
  HeatCounter,
  heatsByBlob,
  observeBlobs,
  orphanCheckIntervalMs,
  withHolder,
  withoutHolder,
} from '../blobs/index.js';
import type { ControlCompare, ControlPlane } from '../control/index.js';
import {
  type Clock,
  InputProblems,
  isMeshError,
  isNodeId,
  type Logger,
  type NodeId,
  type TimerId,
} from '../lib/index.js';
import { type BlobSpec, MAX_BLOB_REPLICAS, type ObservedBlob } from '../reconcile/index.js';
import type { PeerChannelLink } from '../server/index.js';
import { BlobCatalog } from './blob-catalog.js';
import { BlobStateFollower } from './blob-follower.js';
import { BlobPeerRequests } from './blob-peer-requests.js';
import { fetchFromAny, TransferSlots } from './blob-transfer.js';
import type { PeerMessage } from './peer-request-channel.js';

/** A node of the mesh as the blobs see it. */
export interface BlobPeer {
  readonly id: NodeId;
  /** Registered and answering: worth asking for a copy. */
  readonly healthy: boolean;
}

export interface BlobsNodeOptions {
  readonly self: NodeId;
  readonly plane: ControlPlane;
  readonly store: BlobStore;
  /** The blobs channel of the peer transport. */
  readonly link: PeerChannelLink;
  /** The mesh's registered nodes. */
  readonly nodes: () => readonly BlobPeer[];
  /** This node's RTT to `node`, when measured. */
  readonly rttMs: (node: NodeId) => number | undefined;
  /** The node's registration lease (its heat row lives under it); undefined while unregistered. */
  readonly leaseId: () => number | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How long a copy no record names stays before it is deleted (default BLOB_ORPHAN_GRACE_MS). */
  readonly orphanGraceMs?: number;
}

/**
 * What the blobs owner carries out (blob-owner.ts). `fence` joins every record write (the
 * reconciler's term): a change for an ended term is refused with BLOB_ACTION_FENCED.
 */
export interface BlobActions {
  /** Makes `to` hold `blob` (copied from `from`, else another holder); then drops `from`'s copy unless `keepSource`. */
  migrate(
    blob: BlobId,
    from: NodeId,
    to: NodeId,
    keepSource: boolean,
    fence?: readonly ControlCompare[],
  ): Promise<void>;
  /**
   * Leaves `node` off `blob`'s holders (refused with BLOB_COPY_NEEDED when that would leave fewer
   * than its replica count), then asks `node` to delete its copy (a node that is away is not
   * asked: it keeps the copy unlisted until its orphan check deletes it).
   */
  dropCopy(blob: BlobId, node: NodeId, fence?: readonly ControlCompare[]): Promise<void>;
  /** Takes `by` off `blob`'s heat, once per `actionId`. */
  reduceHeat(blob: BlobId, by: number, actionId: number, fence?: readonly ControlCompare[]): Promise<void>;
}

export class BlobsNode implements BlobsBackend, BlobActions {
  private readonly peers: BlobPeerRequests;
  private readonly catalog: BlobCatalog;
  private readonly heat = new HeatCounter();
  private readonly slots = new TransferSlots();
  /** Copies something on this node is storing or copying now (by use count): never orphans. */
  private readonly inUse = new Map<BlobId, number>();
  /** Copies the last checks found unlisted, with when (monotonic) they were first found so. */
  private readonly unlistedSinceMs = new Map<BlobId, number>();
  private orphanTimer: TimerId | undefined;
  /** Copies this node deleted because no record named them past the grace. */
  orphansDeleted = 0;
  /** What the reconciler reads each pass (followed from the control plane from its first read). */
  readonly reconcileState: BlobStateFollower;
  private heatDirty = false;
  /** The lease the last published heat row is under: a new lease (the old one lost, and the row with it) publishes again. */
  private publishedLeaseId: number | undefined;
  private publishTimer: TimerId | undefined;
  private closed = false;
  /** Copies this node found corrupt (and dropped). */
  corruptCopies = 0;

  constructor(private readonly options: BlobsNodeOptions) {
    this.peers = new BlobPeerRequests(options.link, options.clock, options.logger);
    this.peers.serve((from, request) => this.serve(from, request));
    this.catalog = new BlobCatalog(options.plane, options.logger);
    this.reconcileState = new BlobStateFollower(options.plane, options.clock, options.logger);
    this.schedulePublish();
    this.scheduleOrphanCheck();
  }

  get self(): NodeId {
    return this.options.self;
  }

  async put(chunks: AsyncIterable<Uint8Array>, replicas: number): Promise<BlobPutResult> {
    checkReplicas(replicas);
    const { store } = this.options;
    const staged = await this.slots.run(async () => {
      const writer = await store.writer();
      try {
        for await (const chunk of chunks) await writer.write(chunk);
      } catch (error) {
        await writer.abort();
        throw error;
      }
      const written = await writer.finish();
      await written.commit();
      this.use(written.id);
      return written;
    });
    const { id, size } = staged;
    try {
      return await this.recordPut(id, size, replicas);
    } finally {
      this.release(id);
    }
  }

  /** The rest of a put once this node holds the copy: more copies, then the record. */
  private async recordPut(id: BlobId, size: number, replicas: number): Promise<BlobPutResult> {
    const { self } = this.options;
    const existing = await this.catalog.get(id);
    const wanted = Math.max(replicas, existing?.replicas ?? 0);
    const live = new Set(this.liveNodes());
    const holders = new Set<NodeId>([self, ...(existing?.holders ?? []).filter((node) => live.has(node))]);
    const candidates = this.nearestFirst([...live].filter((node) => !holders.has(node)));
    const failures: string[] = [];
    while (holders.size < wanted && candidates.length > 0) {
      const batch = candidates.splice(0, wanted - holders.size);
      const copies = await Promise.allSettled(batch.map((node) => this.copyTo(node, id, [self])));
      copies.forEach((copy, index) => {
        const node = batch[index] as NodeId;
        if (copy.status === 'fulfilled') holders.add(node);
        else failures.push(`node ${node}: ${describe(copy.reason)}`);
      });
    }
    const nowWallMs = this.options.clock.wallMs();
    const record = await this.catalog.update(id, (current) => {
      let next: BlobRecord = current ?? {
        id,
        size,
        replicas: wanted,
        holders: [],
        createdAtWallMs: nowWallMs,
      };
      if (next.replicas < wanted) next = { ...next, replicas: wanted };
      for (const node of holders) next = withHolder(next, node);
      return next;
    });
    const recorded = record?.holders ?? [...holders];
    if (holders.size < wanted)
      throw new BlobReplicasUnavailableError(
        id,
        wanted,
        [...holders].sort((a, b) => a - b),
        failures.length > 0 ? failures.join('; ') : `${live.size + 1} live nodes`,
      );
    return { id, size, replicas: record?.replicas ?? wanted, holders: recorded };
  }

  async get(text: string): Promise<BlobRead> {
    const id = checkBlobId(text);
    const { store, self, clock } = this.options;
    const record = await this.catalog.get(id);
    if (record === undefined) throw new BlobNotFoundError(id);
    this.heat.add(id, BLOB_HEAT_PER_READ, clock.wallMs());
    this.heatDirty = true;
    if (await store.has(id)) {
      try {
        const local = await store.openChecked(id);
        return { id, size: local.size, source: self, chunks: local.chunks };
      } catch (error) {
        if (isMeshError(error, 'BLOB_CORRUPT')) await this.dropCorrupt(id, error);
        else if (!isMeshError(error, 'BLOB_NOT_FOUND')) throw error;
      }
    }
    const live = new Set(this.liveNodes());
    const sources = this.nearestFirst(record.holders.filter((node) => node !== self && live.has(node)));
    // Served once and discarded: not synced.
    const { staged, source } = await this.slots.run(() =>
      fetchFromAny(this.peers, sources, id, () => store.writer({ durable: false })),
    );
    return { id, size: staged.size, source, chunks: servedThenDiscarded(staged) };
  }

  async status(text: string): Promise<BlobStatus> {
    const id = checkBlobId(text);
    const record = await this.catalog.get(id);
    if (record === undefined) throw new BlobNotFoundError(id);
    const nowWallMs = this.options.clock.wallMs();
    return blobStatusOf(record, heatsByBlob(await this.heatRows(), nowWallMs).get(id), nowWallMs);
  }

  async list(): Promise<BlobStatus[]> {
    const records = await this.catalog.list();
    const nowWallMs = this.options.clock.wallMs();
    const heats = heatsByBlob(await this.heatRows(), nowWallMs);
    return records.map((record) => blobStatusOf(record, heats.get(record.id), nowWallMs));
  }

  async remove(text: string): Promise<void> {
    const id = checkBlobId(text);
    const record = await this.catalog.get(id);
    if (record === undefined) throw new BlobNotFoundError(id);
    await this.catalog.update(id, () => undefined);
    // Best effort: a holder that is away keeps an unlisted copy until its orphan check deletes it.
    await Promise.allSettled(record.holders.map((node) => this.dropAt(node, id)));
  }

  async migrate(
    blob: BlobId,
    from: NodeId,
    to: NodeId,
    keepSource: boolean,
    fence: readonly ControlCompare[] = [],
  ): Promise<void> {
    const record = await this.catalog.get(checkBlobId(blob));
    if (record === undefined) throw new BlobNotFoundError(blob);
    if (!record.holders.includes(to)) {
      const live = new Set([...this.liveNodes(), this.options.self]);
      const others = record.holders.filter((node) => node !== from && node !== to && live.has(node));
      await this.copyTo(to, blob, [...(live.has(from) ? [from] : []), ...this.nearestFirst(others)]);
      await this.catalog.update(blob, (current) => current && withHolder(current, to), fence);
    }
    if (keepSource || from === to) return;
    const after = await this.catalog.update(
      blob,
      (current) => (current?.holders.includes(to) === true ? withoutHolder(current, from) : current),
      fence,
    );
    if (after?.holders.includes(from) === false) {
      try {
        await this.dropAt(from, blob);
      } catch (error) {
        // The copy is no longer listed: the node's orphan check deletes it (docs/BLOBS.md).
        this.options.logger?.warn({ err: error, blob, node: from }, 'blobs: dropping a moved copy failed');
      }
    }
  }

  async dropCopy(blob: BlobId, node: NodeId, fence: readonly ControlCompare[] = []): Promise<void> {
    const id = checkBlobId(blob);
    const after = await this.catalog.update(
      id,
      (current) => {
        if (current === undefined || !current.holders.includes(node)) return current;
        if (current.holders.length - 1 < current.replicas)
          throw new BlobCopyNeededError(id, node, current.replicas);
        return withoutHolder(current, node);
      },
      fence,
    );
    if (after?.holders.includes(node) === true) return;
    try {
      await this.dropAt(node, id);
    } catch (error) {
      // No longer listed: the node's orphan check deletes the copy once it is back.
      this.options.logger?.warn({ err: error, blob: id, node }, 'blobs: deleting a dropped copy failed');
    }
  }

  /**
   * Checks this node's copies against their records once: a copy no record names (the blob
   * deleted, or this node no longer a holder) is deleted once checks at least the orphan grace
   * apart all found it unlisted and nothing here used it in between. Answers how many it deleted.
   */
  async checkOrphans(): Promise<number> {
    const { store, self, clock } = this.options;
    const graceMs = this.options.orphanGraceMs ?? BLOB_ORPHAN_GRACE_MS;
    const stored = await store.list();
    const present = new Set(stored);
    for (const id of this.unlistedSinceMs.keys()) if (!present.has(id)) this.unlistedSinceMs.delete(id);
    let deleted = 0;
    for (const id of stored) {
      if (this.closed) break;
      if (this.inUse.has(id)) continue;
      const record = await this.catalog.get(id);
      if (record?.holders.includes(self) === true || this.inUse.has(id)) {
        this.unlistedSinceMs.delete(id);
        continue;
      }
      const since = this.unlistedSinceMs.get(id);
      if (since === undefined) {
        this.unlistedSinceMs.set(id, clock.nowMs());
        continue;
      }
      if (clock.nowMs() - since < graceMs) continue;
      await store.remove(id);
      this.unlistedSinceMs.delete(id);
      deleted += 1;
      this.orphansDeleted += 1;
      this.options.logger?.info(
        { blob: id, unlistedForMs: clock.nowMs() - since },
        'blobs: deleted a copy no record names',
      );
    }
    return deleted;
  }

  async reduceHeat(
    blob: BlobId,
    by: number,
    actionId: number,
    fence: readonly ControlCompare[] = [],
  ): Promise<void> {
    const nowWallMs = this.options.clock.wallMs();
    await this.catalog.update(
      checkBlobId(blob),
      (current) => {
        if (current === undefined || current.cooling?.lastActionId === actionId) return current;
        const before =
          current.cooling === undefined
            ? 0
            : decayedHeat(current.cooling.heat, current.cooling.atWallMs, nowWallMs);
        return { ...current, cooling: { heat: before + by, atWallMs: nowWallMs, lastActionId: actionId } };
      },
      fence,
    );
  }

  /** The blobs as reconcile observes them (holders and readers among `known`, when given) and the copies asked for. */
  async observe(known?: ReadonlySet<NodeId>): Promise<{ observed: ObservedBlob[]; desired: BlobSpec[] }> {
    const records = await this.catalog.list();
    return observeBlobs(records, await this.heatRows(), this.options.clock.wallMs(), known);
  }

  /**
   * Leaves the holders of every blob whose record names this node but whose copy is not here (a
   * node back with a lost or replaced disk), so reconcile counts the copy as missing. Answers how
   * many it left.
   */
  async leaveHoldersOfMissingCopies(): Promise<number> {
    const { self, store } = this.options;
    let left = 0;
    for (const record of await this.catalog.list()) {
      if (!record.holders.includes(self) || (await store.has(record.id))) continue;
      await this.catalog.update(record.id, (current) => current && withoutHolder(current, self));
      left += 1;
    }
    return left;
  }

  /**
   * Publishes the heat row now if it changed or the node's lease did (the row is under the lease,
   * so a lost lease took it away); the timer does it every BLOB_HEAT_PUBLISH_INTERVAL_MS.
   */
  async publishHeat(): Promise<void> {
    const leaseId = this.options.leaseId();
    const rowLost = this.publishedLeaseId !== undefined && leaseId !== this.publishedLeaseId;
    if (leaseId === undefined || !(this.heatDirty || rowLost)) return;
    this.heatDirty = false;
    try {
      await this.catalog.publishHeat(this.ownHeatRow(), leaseId);
      this.publishedLeaseId = leaseId;
    } catch (error) {
      this.heatDirty = true;
      this.options.logger?.warn({ err: error }, 'blobs: publishing the heat row failed');
    }
  }

  close(): void {
    this.closed = true;
    if (this.publishTimer !== undefined) this.options.clock.clearTimer(this.publishTimer);
    if (this.orphanTimer !== undefined) this.options.clock.clearTimer(this.orphanTimer);
    this.reconcileState.stop();
    this.peers.close();
  }

  private scheduleOrphanCheck(): void {
    if (this.closed) return;
    const intervalMs = orphanCheckIntervalMs(this.options.orphanGraceMs ?? BLOB_ORPHAN_GRACE_MS);
    this.orphanTimer = this.options.clock.setTimer(intervalMs, () => {
      void this.checkOrphans()
        .catch((error: unknown) =>
          this.options.logger?.warn({ err: error }, 'blobs: checking copies against their records failed'),
        )
        .finally(() => this.scheduleOrphanCheck());
    });
  }

  /** Something here stores or copies `id` now: its copy is no orphan, and its unlisted time starts over. */
  private use(id: BlobId): void {
    this.inUse.set(id, (this.inUse.get(id) ?? 0) + 1);
    this.unlistedSinceMs.delete(id);
  }

  private release(id: BlobId): void {
    const count = (this.inUse.get(id) ?? 1) - 1;
    if (count <= 0) this.inUse.delete(id);
    else this.inUse.set(id, count);
    this.unlistedSinceMs.delete(id);
  }

  private schedulePublish(): void {
    if (this.closed) return;
    this.publishTimer = this.options.clock.setTimer(BLOB_HEAT_PUBLISH_INTERVAL_MS, () => {
      void this.publishHeat().finally(() => this.schedulePublish());
    });
  }

  private ownHeatRow(): BlobHeatRow {
    const atWallMs = this.options.clock.wallMs();
    return { node: this.options.self, atWallMs, heats: [...this.heat.snapshot(atWallMs)] };
  }

  /** Every node's published row, this node's own replaced by its current heat. */
  private async heatRows(): Promise<BlobHeatRow[]> {
    const rows = await this.catalog.heatRows();
    return [...rows.filter((row) => row.node !== this.options.self), this.ownHeatRow()];
  }

  private liveNodes(): NodeId[] {
    return this.options
      .nodes()
      .filter((node) => node.healthy && node.id !== this.options.self)
      .map((node) => node.id);
  }

  /** Nearest (smallest RTT) first; unmeasured last; then by id. */
  private nearestFirst(nodes: readonly NodeId[]): NodeId[] {
    const rtt = (node: NodeId): number => this.options.rttMs(node) ?? Number.POSITIVE_INFINITY;
    return [...nodes].sort((a, b) => rtt(a) - rtt(b) || a - b);
  }

  /** Makes `node` hold a checked copy of `id`, fetched from the first of `sources` that serves one. */
  private async copyTo(node: NodeId, id: BlobId, sources: readonly NodeId[]): Promise<void> {
    if (node === this.options.self) {
      await this.holdHere(id, sources);
      return;
    }
    await this.peers.request(
      node,
      { header: { type: 'replicate', id, sources }, blobs: [] },
      BLOB_REPLICATE_TIMEOUT_MS,
    );
  }

  /**
   * Has `node` delete its copy of `id` (which no record may name then). A node that is away is
   * not asked: its orphan check deletes the copy once it is back.
   */
  private async dropAt(node: NodeId, id: BlobId): Promise<void> {
    if (node === this.options.self) await this.dropHere(id);
    else if (this.liveNodes().includes(node))
      await this.peers.request(node, { header: { type: 'drop', id }, blobs: [] }, BLOB_DROP_TIMEOUT_MS);
  }

  /** Deletes this node's copy of `id`, unless the record still names this node (BLOB_COPY_LISTED). */
  private async dropHere(id: BlobId): Promise<void> {
    const { self, store } = this.options;
    if ((await this.catalog.get(id))?.holders.includes(self) === true)
      throw new BlobCopyListedError(id, self);
    await store.remove(id);
    this.unlistedSinceMs.delete(id);
  }

  /** This node holds a checked copy of `id` (kept if it has a good one); answers its size. */
  private async holdHere(id: BlobId, sources: readonly NodeId[]): Promise<number> {
    this.use(id);
    try {
      return await this.copyHere(id, sources);
    } finally {
      this.release(id);
    }
  }

  private async copyHere(id: BlobId, sources: readonly NodeId[]): Promise<number> {
    const { store, self } = this.options;
    if (await store.has(id)) {
      try {
        return await store.verify(id);
      } catch (error) {
        if (!isMeshError(error, 'BLOB_CORRUPT')) throw error;
        await this.dropCorrupt(id, error);
      }
    }
    const { staged } = await this.slots.run(() =>
      fetchFromAny(
        this.peers,
        sources.filter((node) => node !== self),
        id,
        () => store.writer(),
      ),
    );
    await staged.commit();
    return staged.size;
  }

  /** A copy here does not match its id: it is removed and this node leaves the blob's holders. */
  private async dropCorrupt(id: BlobId, error: unknown): Promise<void> {
    this.corruptCopies += 1;
    this.options.logger?.error({ err: error, blob: id }, 'blobs: a stored copy is corrupt; dropping it');
    await this.options.store.remove(id);
    try {
      await this.catalog.update(id, (current) => current && withoutHolder(current, this.options.self));
    } catch (failure) {
      this.options.logger?.warn(
        { err: failure, blob: id },
        'blobs: leaving the holders of a corrupt copy failed',
      );
    }
  }

  private async serve(_from: NodeId, request: PeerMessage): Promise<PeerMessage> {
    const { type } = request.header;
    const id = checkBlobId(String(request.header.id));
    if (type === 'chunk') return this.serveChunk(id, request.header.offset);
    if (type === 'replicate') {
      const sources = request.header.sources;
      if (!Array.isArray(sources) || !sources.every(isNodeId))
        throw new BlobNotFoundError(id, 'a replicate request without sources');
      return { header: { size: await this.holdHere(id, sources) }, blobs: [] };
    }
    if (type === 'drop') {
      await this.dropHere(id);
      return { header: {}, blobs: [] };
    }
    throw new BlobNotFoundError(id, `a request of unknown type ${String(type)}`);
  }

  /** A chunk of this node's copy; the copy is checked whole when a transfer starts (offset 0). */
  private async serveChunk(id: BlobId, offset: unknown): Promise<PeerMessage> {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      throw new BlobNotFoundError(id, 'a chunk request without a valid offset');
    const { store } = this.options;
    if (offset === 0) {
      try {
        await store.verify(id);
      } catch (error) {
        if (isMeshError(error, 'BLOB_CORRUPT')) await this.dropCorrupt(id, error);
        throw error;
      }
    }
    const { bytes, size } = await store.readAt(id, offset, BLOB_CHUNK_BYTES);
    return { header: { size }, blobs: [bytes] };
  }
}

function checkReplicas(replicas: number): void {
  const problems = new InputProblems();
  problems.integer('replicas', replicas, 1, MAX_BLOB_REPLICAS);
  problems.throwIfAny('blob put');
}

function describe(error: unknown): string {
  if (isMeshError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** A fetched copy's bytes; its temporary file is removed once they are read (or the reader stops). */
async function* servedThenDiscarded(staged: {
  chunks(): AsyncIterable<Uint8Array>;
  discard(): Promise<void>;
}): AsyncGenerator<Uint8Array> {
  try {
    yield* staged.chunks();
  } finally {
    await staged.discard();
  }
}
