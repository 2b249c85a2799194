import type * as net from 'node:net';

/**
 * The put floor's frames, between its client (`put-floor.ts`) and its members
 * (`put-floor-member.ts`) and among the members: a 4-byte big-endian length, then the body.
 */
const LENGTH_BYTES = 4;

export function framed(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, LENGTH_BYTES);
  return frame;
}

/** Calls `onFrame` with the body of each whole frame that arrives on `socket`. */
export function readFrames(socket: net.Socket, onFrame: (body: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.byteLength === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.byteLength >= LENGTH_BYTES) {
      const length = pending.readUInt32BE(0);
      if (pending.byteLength < LENGTH_BYTES + length) break;
      onFrame(pending.subarray(LENGTH_BYTES, LENGTH_BYTES + length));
      pending = pending.subarray(LENGTH_BYTES + length);
    }
  });
}
