/** The calls that use gRPC streams: one keepalive, a snapshot download, a watch's creation. */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../lib/index.js';
import {
  type PbLeaseKeepAliveResponse,
  type PbSnapshotResponse,
  type PbWatchResponse,
  SNAPSHOT_ALIGNMENT_BYTES,
  SNAPSHOT_DIGEST_BYTES,
} from '../protocol/index.js';
import { toNumber } from './convert.js';
import type { EndpointConnection } from './endpoint.js';
import { SnapshotCorruptError, TimeoutError, UnavailableError } from './errors.js';
import { MAX_SNAPSHOT_BYTES } from './limits.js';
import { WatchChannel, watchRefusal } from './watch.js';

/**
 * Opens a Watch stream and sends one create request; resolves with the paused, unbound channel
 * once the node confirms the watch, rejects with its refusal or the stream's failure.
 */
export function createWatch(
  connection: EndpointConnection,
  createRequest: Record<string, unknown>,
  deadline: Date,
  clock: Clock,
): Promise<{ channel: WatchChannel; created: PbWatchResponse }> {
  return new Promise((resolve, reject) => {
    const channel = new WatchChannel(connection.duplex('watch', 'Watch', new grpc.Metadata()));
    const timer = clock.setTimer(deadline.getTime() - Date.now(), () => {
      channel.close();
      reject(new TimeoutError(`${connection.address}: watch not created in time`));
    });
    const fail = (error: unknown): void => {
      clock.clearTimer(timer);
      channel.close();
      reject(error);
    };
    channel.bind({
      data: (response: PbWatchResponse) => {
        const refusal = watchRefusal(response);
        if (refusal !== undefined) {
          fail(refusal);
          return;
        }
        clock.clearTimer(timer);
        channel.unbind();
        resolve({ channel, created: response });
      },
      error: fail,
      end: () =>
        fail(new UnavailableError(`${connection.address}: watch stream ended before the watch was created`)),
    });
    channel.stream.write({ create_request: createRequest });
  });
}

/** Sends one keepalive on a fresh stream and takes the first answer. */
export function keepAliveOnce(
  connection: EndpointConnection,
  id: number,
  deadline: Date,
): Promise<PbLeaseKeepAliveResponse> {
  return new Promise((resolve, reject) => {
    const stream = connection.duplex('lease', 'LeaseKeepAlive', new grpc.Metadata(), deadline);
    let settled = false;
    stream.on('data', (response: PbLeaseKeepAliveResponse) => {
      if (settled) return;
      settled = true;
      stream.end();
      resolve(response);
    });
    stream.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      reject(new UnavailableError(`${connection.address}: keepalive stream ended without an answer`));
    });
    stream.write({ ID: id });
  });
}

/**
 * Where a snapshot download goes, chunk by chunk. `restart` comes before each attempt's first
 * chunk (an attempt that failed part-way is started over, on the same or another node).
 */
export interface SnapshotSink {
  restart(): Promise<void>;
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * Hands a snapshot stream to `sink` as it arrives, one write at a time (the stream is paused while
 * a write is pending, so nothing piles up), hashing it on the way: resolves with its length once
 * its last 32 bytes are the SHA-256 of all before them and the length is 512·n + 32
 * (SNAPSHOT_CORRUPT otherwise), refusing one that announces more than the bound.
 */
export function streamSnapshot(
  connection: EndpointConnection,
  deadline: Date,
  sink: SnapshotSink,
  onProgress: ((receivedBytes: number, totalBytes: number) => void) | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = connection.serverStream('maintenance', 'Snapshot', {}, new grpc.Metadata(), deadline);
    const digest = new SnapshotDigest();
    let received = 0;
    let failed = false;
    let writing = Promise.resolve();
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      stream.cancel();
      reject(error);
    };
    stream.on('data', (response: PbSnapshotResponse) => {
      if (failed) return;
      const total = received + response.blob.length + toNumber(response.remaining_bytes);
      if (total > MAX_SNAPSHOT_BYTES) {
        fail(new SnapshotCorruptError(`announces ${total} bytes, more than ${MAX_SNAPSHOT_BYTES}`));
        return;
      }
      digest.update(response.blob, received, total);
      received += response.blob.length;
      onProgress?.(received, total);
      stream.pause();
      writing = writing
        .then(() => sink.write(response.blob))
        .then(
          () => {
            stream.resume();
          },
          (error: unknown) => fail(error),
        );
    });
    stream.on('error', fail);
    stream.on('end', () => {
      void writing.then(() => {
        if (failed) return;
        const problem = digest.problem(received);
        if (problem !== undefined) fail(new SnapshotCorruptError(problem));
        else resolve(received);
      });
    });
  });
}

/** The SHA-256 of a sealed snapshot's bytes as they stream by, and the 32 bytes that end it. */
class SnapshotDigest {
  private readonly hash = createHash('sha256');
  private readonly stored = new Uint8Array(SNAPSHOT_DIGEST_BYTES);

  /** `chunk` starts at byte `at` of a stream of `total` bytes. */
  update(chunk: Uint8Array, at: number, total: number): void {
    const dataEnd = total - SNAPSHOT_DIGEST_BYTES;
    const data = chunk.subarray(0, Math.max(0, dataEnd - at));
    this.hash.update(data);
    const tail = chunk.subarray(data.length);
    if (tail.length > 0) this.stored.set(tail.subarray(0, SNAPSHOT_DIGEST_BYTES), Math.max(0, at - dataEnd));
  }

  problem(length: number): string | undefined {
    if (length % SNAPSHOT_ALIGNMENT_BYTES !== SNAPSHOT_DIGEST_BYTES) {
      return `its length ${length} is not ${SNAPSHOT_ALIGNMENT_BYTES}·n + ${SNAPSHOT_DIGEST_BYTES} (no SHA-256 at its end)`;
    }
    if (!this.hash.digest().equals(this.stored)) return 'its SHA-256 digest does not match its data';
    return undefined;
  }
}
