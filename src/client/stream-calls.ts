/** The calls that use gRPC streams: one keepalive, a snapshot download, a watch's creation. */
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../lib/index.js';
import type { PbLeaseKeepAliveResponse, PbSnapshotResponse, PbWatchResponse } from '../protocol/index.js';
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

/** Gathers a snapshot stream, refusing one that announces more than the bound. */
export function collectSnapshot(
  connection: EndpointConnection,
  deadline: Date,
  onProgress: ((receivedBytes: number, totalBytes: number) => void) | undefined,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const stream = connection.serverStream('maintenance', 'Snapshot', {}, new grpc.Metadata(), deadline);
    const chunks: Uint8Array[] = [];
    let received = 0;
    let failed = false;
    stream.on('data', (response: PbSnapshotResponse) => {
      if (failed) return;
      received += response.blob.length;
      const total = received + toNumber(response.remaining_bytes);
      if (total > MAX_SNAPSHOT_BYTES) {
        failed = true;
        stream.cancel();
        reject(new SnapshotCorruptError(`announces ${total} bytes, more than ${MAX_SNAPSHOT_BYTES}`));
        return;
      }
      chunks.push(response.blob);
      onProgress?.(received, total);
    });
    stream.on('error', (error) => {
      if (failed) return;
      failed = true;
      reject(error);
    });
    stream.on('end', () => {
      if (failed) return;
      const whole = new Uint8Array(received);
      let offset = 0;
      for (const chunk of chunks) {
        whole.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(whole);
    });
  });
}
