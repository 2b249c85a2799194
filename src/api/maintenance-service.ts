/**
 * The Maintenance service: Status and Snapshot are served; Alarm answers "no alarms" and
 * Defragment succeeds without work (there is no on-disk B-tree to compact); Hash, HashKV,
 * MoveLeader and Downgrade answer UNIMPLEMENTED.
 */
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import type { Int64Out, PbSnapshotResponse } from '../protocol/index.js';
import { statusToPb } from './convert-cluster.js';
import { responseHeader } from './convert-header.js';
import { toServiceError, unary, writable } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';
import { SNAPSHOT_CHUNK_BYTES } from './limits.js';

type SnapshotCall = grpc.ServerWritableStream<Record<string, never>, PbSnapshotResponse<Int64Out>>;

/** Length of the SHA-256 digest that follows the snapshot data, as in etcd's snapshot stream. */
const SNAPSHOT_DIGEST_BYTES = 32;

export function maintenanceService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    Status: unary('Status', logger, async () => {
      const status = await backend.status();
      return statusToPb(status, responseHeader(backend, status.revision));
    }),
    Alarm: unary('Alarm', logger, async () => ({ header: responseHeader(backend), alarms: [] })),
    Defragment: unary('Defragment', logger, async () => ({ header: responseHeader(backend) })),
    Snapshot: (call: SnapshotCall) => {
      streamSnapshot(call, backend).catch((error: unknown) => {
        call.emit('error', toServiceError(error, logger, 'Snapshot'));
      });
    },
  };
}

/** The snapshot bytes followed by their SHA-256, in chunks, each saying how many bytes remain after it. */
async function streamSnapshot(call: SnapshotCall, backend: KvBackend): Promise<void> {
  let closed = false;
  const closedSignal = new Promise<void>((resolve) => {
    call.once('cancelled', () => {
      closed = true;
      resolve();
    });
  });
  const data = await backend.snapshot();
  const digest = createHash('sha256').update(data).digest();
  const whole = new Uint8Array(data.length + SNAPSHOT_DIGEST_BYTES);
  whole.set(data, 0);
  whole.set(digest, data.length);
  const header = responseHeader(backend);
  for (let offset = 0; offset < whole.length && !closed; offset += SNAPSHOT_CHUNK_BYTES) {
    const blob = whole.subarray(offset, Math.min(offset + SNAPSHOT_CHUNK_BYTES, whole.length));
    const remaining = whole.length - offset - blob.length;
    if (!call.write({ header, remaining_bytes: remaining, blob })) await writable(call, closedSignal);
  }
  if (!closed) call.end();
}
