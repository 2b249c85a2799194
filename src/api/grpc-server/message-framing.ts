/**
 * gRPC's length-prefixed messages on an HTTP/2 stream (gRPC over HTTP/2, "Length-Prefixed-Message"):
 * one flag byte (1 = compressed with the call's `grpc-encoding`), a 4-byte big-endian length, then
 * the message bytes. Only this framing lives here; the message bytes are protobuf, coded by the
 * service definitions' own (de)serializers.
 */

export const MESSAGE_PREFIX_BYTES = 5;

/** One message's bytes as they came, before any decompression. */
export interface FramedMessage {
  readonly compressed: boolean;
  readonly bytes: Buffer;
}

/** A message whose length prefix says more than the receive limit (RESOURCE_EXHAUSTED). */
export class MessageTooLargeError extends Error {
  constructor(
    readonly messageBytes: number,
    readonly limitBytes: number,
  ) {
    super(`Received message larger than max (${messageBytes} vs. ${limitBytes})`);
  }
}

/** `message` behind its prefix, in one new buffer (the response path). */
export function frameMessage(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + message.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(message.byteLength, 1);
  framed.set(message, MESSAGE_PREFIX_BYTES);
  return framed;
}

/** The length a prefix at the start of `chunk` announces; the caller checks there are 5 bytes. */
export function announcedLength(chunk: Buffer): number {
  return chunk.readUInt32BE(1);
}

/**
 * Cuts a stream of DATA chunks into messages. A message that arrives whole inside one chunk is a
 * view of that chunk (no copy); only a message split across chunks is gathered into a new buffer.
 * The limit is checked on the prefix, before any byte of a too large message is held.
 */
export class MessageReader {
  /** Bytes of a message (or prefix) split across chunks, gathered so far. */
  private partial: Buffer | undefined;
  private partialFilled = 0;
  /** Prefix bytes gathered when a prefix itself was split. */
  private readonly prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  private prefixFilled = 0;
  private compressed = false;

  constructor(private readonly limitBytes: number) {}

  /** True while part of a message is held (a half-close now would cut it). */
  get holdsPartial(): boolean {
    return this.prefixFilled > 0 || this.partial !== undefined;
  }

  /** Every message completed by `chunk`, in order; throws `MessageTooLargeError`. */
  push(chunk: Buffer, into: FramedMessage[]): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.partial !== undefined) {
        const take = Math.min(this.partial.length - this.partialFilled, chunk.length - offset);
        chunk.copy(this.partial, this.partialFilled, offset, offset + take);
        this.partialFilled += take;
        offset += take;
        if (this.partialFilled === this.partial.length) {
          into.push({ compressed: this.compressed, bytes: this.partial });
          this.partial = undefined;
        }
        continue;
      }
      if (this.prefixFilled === 0 && chunk.length - offset >= MESSAGE_PREFIX_BYTES) {
        const length = chunk.readUInt32BE(offset + 1);
        this.check(length);
        const compressed = chunk[offset] === 1;
        const end = offset + MESSAGE_PREFIX_BYTES + length;
        if (end <= chunk.length) {
          into.push({ compressed, bytes: chunk.subarray(offset + MESSAGE_PREFIX_BYTES, end) });
          offset = end;
          continue;
        }
        this.start(compressed, length);
        offset += MESSAGE_PREFIX_BYTES;
        continue;
      }
      // A prefix split across chunks.
      const take = Math.min(MESSAGE_PREFIX_BYTES - this.prefixFilled, chunk.length - offset);
      chunk.copy(this.prefix, this.prefixFilled, offset, offset + take);
      this.prefixFilled += take;
      offset += take;
      if (this.prefixFilled === MESSAGE_PREFIX_BYTES) {
        this.prefixFilled = 0;
        const length = this.prefix.readUInt32BE(1);
        this.check(length);
        if (length === 0) into.push({ compressed: this.prefix[0] === 1, bytes: Buffer.alloc(0) });
        else this.start(this.prefix[0] === 1, length);
      }
    }
  }

  private check(length: number): void {
    if (length > this.limitBytes) throw new MessageTooLargeError(length, this.limitBytes);
  }

  private start(compressed: boolean, length: number): void {
    this.compressed = compressed;
    this.partial = Buffer.allocUnsafe(length);
    this.partialFilled = 0;
  }
}
