/**
 * The Maintenance service: Status, Snapshot and Alarm (NOSPACE alarms: list, raise, clear through
 * the log) are served; Defragment succeeds without work (compaction frees memory itself, there is
 * no on-disk B-tree to defragment); MoveLeader hands leadership to a voter through any member
 * and answers once it leads; HashKV answers this member's hash of its key-value history
 * (src/kv/hash.ts) and Hash the same at its current revision; Downgrade answers UNIMPLEMENTED.
 * With auth on, Snapshot, Hash, HashKV, Defragment, MoveLeader and alarm changes are root's.
 */
import type * as grpc from '@grpc/grpc-js';
import type { AlarmMember } from '../kv/index.js';
import type { Logger } from '../lib/index.js';
import {
  type Int64In,
  type Int64Out,
  type PbSnapshotResponse,
  sealedSnapshotTail,
} from '../protocol/index.js';
import { type AlarmCall, alarmCallFromPb, alarmMemberToPb, type PbAlarmRequest } from './convert-alarm.js';
import { memberId, statusToPb } from './convert-cluster.js';
import { responseHeader } from './convert-header.js';
import { int64ToNumber } from './convert-numbers.js';
import { toServiceError, unary, writable } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';
import { SNAPSHOT_CHUNK_BYTES } from './limits.js';
import { requireRoot } from './request-auth.js';

type SnapshotCall = grpc.ServerWritableStream<Record<string, never>, PbSnapshotResponse<Int64Out>>;

export function maintenanceService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    Status: unary('Status', logger, async () => {
      const status = await backend.status();
      return statusToPb(status, responseHeader(backend, status.revision));
    }),
    Alarm: unary('Alarm', logger, async (request: PbAlarmRequest, metadata) => {
      const call = alarmCallFromPb(request);
      // With auth on, raising and clearing alarms is root's (listing is anyone's), as in etcd.
      if (call.action !== 'get') requireRoot(backend, metadata, 'Alarm');
      const alarms = await answerAlarm(backend, call);
      return { header: responseHeader(backend), alarms: alarms.map(alarmMemberToPb) };
    }),
    Defragment: unary('Defragment', logger, async (_request, metadata) => {
      requireRoot(backend, metadata, 'Defragment');
      return { header: responseHeader(backend) };
    }),
    MoveLeader: unary('MoveLeader', logger, async (request: { targetID: Int64In }, metadata) => {
      requireRoot(backend, metadata, 'MoveLeader');
      await backend.moveLeader(memberId(request.targetID));
      return { header: responseHeader(backend) };
    }),
    HashKV: unary('HashKV', logger, async (request: { revision?: Int64In }, metadata) => {
      requireRoot(backend, metadata, 'HashKV');
      const answer = await backend.hashKv(int64ToNumber('revision', request.revision));
      return {
        header: responseHeader(backend),
        hash: answer.hash,
        compact_revision: answer.compactRevision,
      };
    }),
    Hash: unary('Hash', logger, async (_request, metadata) => {
      requireRoot(backend, metadata, 'Hash');
      const answer = await backend.hashKv(0);
      return { header: responseHeader(backend, answer.revision), hash: answer.hash };
    }),
    Snapshot: (call: SnapshotCall) => {
      Promise.resolve()
        .then(() => requireRoot(backend, call.metadata, 'Snapshot'))
        .then(() => streamSnapshot(call, backend))
        .catch((error: unknown) => {
          call.emit('error', toServiceError(error, logger, 'Snapshot'));
        });
    },
  };
}

/** As etcd: a list of the raised alarms, or the alarm raised or cleared (NONE changes nothing). */
async function answerAlarm(backend: KvBackend, call: AlarmCall): Promise<readonly AlarmMember[]> {
  if (call.action === 'get') {
    const raised = await backend.alarms();
    return call.alarm === undefined ? raised : raised.filter((member) => member.alarm === call.alarm);
  }
  if (call.action === 'none') return [];
  const result = await backend.execute({
    type: 'alarm',
    action: call.action,
    memberId: call.memberId,
    alarm: call.alarm,
  });
  return result.alarms;
}

/**
 * The snapshot bytes in chunks, then their padding and SHA-256 (`sealedSnapshotTail`) as the last
 * chunk, each saying how many bytes remain after it. The data is sent from the snapshot itself,
 * not from a sealed copy of it.
 */
async function streamSnapshot(call: SnapshotCall, backend: KvBackend): Promise<void> {
  let closed = false;
  const closedSignal = new Promise<void>((resolve) => {
    call.once('cancelled', () => {
      closed = true;
      resolve();
    });
  });
  const data = await backend.snapshot();
  const tail = sealedSnapshotTail(data);
  const header = responseHeader(backend);
  let remaining = data.length + tail.length;
  const send = async (blob: Uint8Array): Promise<void> => {
    remaining -= blob.length;
    if (!call.write({ header, remaining_bytes: remaining, blob })) await writable(call, closedSignal);
  };
  for (let offset = 0; offset < data.length && !closed; offset += SNAPSHOT_CHUNK_BYTES)
    await send(data.subarray(offset, Math.min(offset + SNAPSHOT_CHUNK_BYTES, data.length)));
  if (!closed) await send(tail);
  if (!closed) call.end();
}
