// The content-addressed blob store (docs/BLOBS.md): ids, the on-disk store, read heat, the
// control-plane records and what reconcile observes of them.
export { BlobHasher, type BlobId, blobIdOf, checkBlobId, isBlobId } from './blob-id.js';
export {
  BlobActionFencedError,
  BlobBusyError,
  BlobConflictError,
  BlobCopyListedError,
  BlobCopyNeededError,
  BlobCorruptError,
  BlobIdInvalidError,
  BlobNotFoundError,
  BlobReplicasUnavailableError,
  BlobServiceUnavailableError,
  BlobTooLargeError,
  BlobUnavailableError,
} from './errors.js';
export { decayedHeat, HeatCounter } from './heat.js';
export {
  BLOB_CHUNK_BYTES,
  BLOB_CHUNK_TIMEOUT_MS,
  BLOB_DROP_TIMEOUT_MS,
  BLOB_FETCH_WINDOW_CHUNKS,
  BLOB_HEAT_HALF_LIFE_MS,
  BLOB_HEAT_PER_READ,
  BLOB_HEAT_PUBLISH_INTERVAL_MS,
  BLOB_ORPHAN_GRACE_MS,
  BLOB_REPLICATE_TIMEOUT_MS,
  blobOrphanGraceProblems,
  MAX_BLOB_BYTES,
  MAX_BLOB_PEER_REQUESTS_IN_FLIGHT,
  MAX_BLOB_RECORD_CAS_ATTEMPTS,
  MAX_BLOB_REPLICAS,
  MAX_CONCURRENT_BLOB_TRANSFERS,
  MAX_HEAT_ENTRIES_PER_NODE,
  MAX_LISTED_BLOBS,
  MAX_WAITING_BLOB_TRANSFERS,
  MIN_TRACKED_BLOB_HEAT,
  orphanCheckIntervalMs,
} from './limits.js';
export {
  type BlobReaderHeat,
  type BlobStatus,
  blobStatusOf,
  heatsByBlob,
  observeBlobs,
} from './observe.js';
export {
  type BlobCooling,
  type BlobHeatRow,
  type BlobRecord,
  readBlobHeatRow,
  readBlobRecord,
  withHolder,
  withoutHolder,
} from './records.js';
export { BlobStore, type BlobWriter, type StagedBlob } from './store.js';
