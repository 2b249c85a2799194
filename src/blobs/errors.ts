/** The blob store's typed errors, each with a stable code (docs/BLOBS.md lists them). */
import { MeshError, type NodeId } from '../lib/index.js';

/** Not a blob id: 64 lowercase hex digits (the SHA-256 of the content). */
export class BlobIdInvalidError extends MeshError {
  constructor(text: string) {
    super('BLOB_ID_INVALID', `'${text.slice(0, 80)}' is not a blob id (64 lowercase hex digits, a SHA-256)`, {
      details: { id: text.slice(0, 80) },
    });
  }
}

export class BlobNotFoundError extends MeshError {
  constructor(id: string, where = 'the mesh') {
    super('BLOB_NOT_FOUND', `blob ${id} is not stored in ${where}`, { details: { id } });
  }
}

/** A copy whose bytes do not hash to its id: detected, reported, never served. */
export class BlobCorruptError extends MeshError {
  constructor(id: string, where: string, actual?: string) {
    super(
      'BLOB_CORRUPT',
      `the copy of blob ${id} on ${where} is corrupt${actual === undefined ? '' : ` (its bytes hash to ${actual})`}`,
      {
        details: { id, where, ...(actual === undefined ? {} : { actual }) },
      },
    );
  }
}

export class BlobTooLargeError extends MeshError {
  constructor(bytes: number, limitBytes: number) {
    super('BLOB_TOO_LARGE', `a blob of ${bytes} bytes or more is above the limit of ${limitBytes} bytes`, {
      details: { bytes, limitBytes },
    });
  }
}

/** No holder could serve the blob (each tried one failed); `reasons` says why per holder. */
export class BlobUnavailableError extends MeshError {
  constructor(id: string, reason: string, cause?: unknown) {
    super('BLOB_UNAVAILABLE', `blob ${id} cannot be read now: ${reason}`, {
      details: { id },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** A put reached fewer durable holders than asked for; the ones that hold it are recorded. */
export class BlobReplicasUnavailableError extends MeshError {
  constructor(id: string, wanted: number, holders: readonly NodeId[], reason: string) {
    super(
      'BLOB_REPLICAS_UNAVAILABLE',
      `blob ${id}: ${wanted} durable copies asked for, ${holders.length} made (${reason}); the copies made are recorded and reconcile adds the rest`,
      { details: { id, wanted, holders: [...holders] } },
    );
  }
}

/** Too many transfers running and waiting on this node. */
export class BlobBusyError extends MeshError {
  constructor(running: number, waiting: number) {
    super('BLOB_BUSY', `${running} blob transfers run and ${waiting} wait on this node; try again later`, {
      details: { running, waiting },
    });
  }
}

/** A blob record kept changing under a compare-and-swap. */
export class BlobConflictError extends MeshError {
  constructor(id: string, attempts: number) {
    super('BLOB_CONFLICT', `blob ${id}'s record changed during each of ${attempts} updates`, {
      details: { id, attempts },
    });
  }
}

/** The blobs service of the node does not run (starting, restarting or stopped). */
export class BlobServiceUnavailableError extends MeshError {
  constructor(reason: string) {
    super('BLOBS_UNAVAILABLE', `the blobs service is unavailable: ${reason}`);
  }
}

/** A node was asked to delete its copy of a blob whose record still names it: the copy stays. */
export class BlobCopyListedError extends MeshError {
  constructor(id: string, node: NodeId) {
    super('BLOB_COPY_LISTED', `blob ${id}: node ${node}'s copy is still among its holders, so it stays`, {
      details: { id, node },
    });
  }
}

/** Dropping a node's copy would leave a blob fewer holders than its replica count: not dropped. */
export class BlobCopyNeededError extends MeshError {
  constructor(id: string, node: NodeId, replicas: number) {
    super(
      'BLOB_COPY_NEEDED',
      `blob ${id}: node ${node}'s copy is one of the ${replicas} it keeps, so it stays`,
      { details: { id, node, replicas } },
    );
  }
}

/** A change made for a reconciler whose term ended (its fence no longer holds): not written. */
export class BlobActionFencedError extends MeshError {
  constructor(id: string) {
    super('BLOB_ACTION_FENCED', `blob ${id}: the reconciler term this change was made for has ended`, {
      details: { id },
    });
  }
}
