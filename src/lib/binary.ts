import { bytesToBinary, writeBinary } from './binary-string.js';
import { pooledBytes } from './bytes.js';
import { assert } from './errors.js';
import { encodeWithScratch, ScratchBuffer } from './scratch-buffer.js';

/**
 * The one binary field format of MeshOS's own encodings (Raft messages, sessions, KV commands,
 * results and snapshots): unsigned LEB128 varints of safe integers, length-prefixed byte
 * strings, UTF-8 text and big-endian 32-bit words. Every read is bounds-checked and fails with
 * the error its caller's subsystem names.
 */

/** A varint of a safe integer (< 2^53) takes at most 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8;
const MINIMUM_CAPACITY_BYTES = 16;
const DEFAULT_CAPACITY_BYTES = 256;
/** Enough for an append message of typical batches; larger encodings grow it or allocate. */
const SCRATCH_INITIAL_BYTES = 256 * 1024;
/** Shared by short-lived writers (`BinaryWriter.scratch`), one at a time. */
const scratch = new ScratchBuffer(SCRATCH_INITIAL_BYTES);

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Makes the typed error a decoder throws: `subject` names what was decoded. */
export type DecodeErrorFactory = (subject: string, problem: string) => Error;

/** Appends binary fields to a growing buffer. */
export class BinaryWriter {
  private buffer: Uint8Array;
  private length = 0;
  private borrowed: boolean;

  /** `lent`: the shared scratch buffer, given back by `release` (see `scratch`). */
  constructor(capacityBytes = DEFAULT_CAPACITY_BYTES, lent?: Uint8Array) {
    this.buffer = lent ?? new Uint8Array(Math.max(MINIMUM_CAPACITY_BYTES, capacityBytes));
    this.borrowed = lent !== undefined;
  }

  /**
   * A writer over the shared scratch buffer when it is free (else a private one of
   * `capacityBytes`), so an encoding costs one exact-size allocation, in `finish`. Call
   * `finish` (or `release` after `view`) exactly once, which gives the scratch back.
   */
  static scratch(capacityBytes = 0): BinaryWriter {
    const buffer = scratch.borrow(capacityBytes);
    return buffer === undefined ? new BinaryWriter(capacityBytes) : new BinaryWriter(0, buffer);
  }

  /**
   * What `encode` writes, on a scratch writer, in pooled memory (`finishTransient`): for bytes
   * that are sent or copied by their receiver, never kept as they are.
   */
  static transient(encode: (writer: BinaryWriter) => void): Uint8Array {
    return encodeWithScratch(BinaryWriter.scratch(), encode, (writer) => writer.finishTransient());
  }

  /** Gives a borrowed scratch buffer back (grown, if it had to grow); `finish` does this itself. */
  release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    scratch.giveBack(this.buffer);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  boolean(value: boolean): this {
    return this.byte(value ? 1 : 0);
  }

  /** An unsigned varint; the value must be a safe non-negative integer. */
  varuint(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, () => `varuint out of range: ${value}`);
    this.reserve(MAX_VARINT_BYTES);
    while (value >= 0x80) {
      this.buffer[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.length++] = value;
    return this;
  }

  /** Bytes with their length. */
  bytes(value: Uint8Array): this {
    this.varuint(value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  /** A binary string (one byte per character) with its length. */
  binary(value: string): this {
    this.varuint(value.length);
    this.reserve(value.length);
    writeBinary(this.buffer, this.length, value);
    this.length += value.length;
    return this;
  }

  /** UTF-8 text with its byte length. */
  text(value: string): this {
    // Every heartbeat carries an empty context: no encoder output (an ArrayBuffer) for it.
    if (value.length === 0) return this.varuint(0);
    return this.bytes(textEncoder.encode(value));
  }

  uint32(value: number): this {
    this.reserve(4);
    this.buffer[this.length++] = (value >>> 24) & 0xff;
    this.buffer[this.length++] = (value >>> 16) & 0xff;
    this.buffer[this.length++] = (value >>> 8) & 0xff;
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  get size(): number {
    return this.length;
  }

  /** The bytes written, copied to a buffer of their own; gives back a borrowed scratch. */
  finish(): Uint8Array {
    const bytes = this.buffer.slice(0, this.length);
    this.release();
    return bytes;
  }

  /**
   * The bytes written, copied to pooled memory (`pooledBytes`, about ten times cheaper than
   * `finish` for small sizes): only for bytes that are sent, or copied by whoever keeps them
   * (a proposal, which the Raft log copies); gives back a borrowed scratch.
   */
  finishTransient(): Uint8Array {
    const bytes = pooledBytes(this.length);
    bytes.set(this.buffer.subarray(0, this.length));
    this.release();
    return bytes;
  }

  /** The bytes written so far, without copying (valid until the next write). */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Reads fields written by `BinaryWriter`, checking every length against what is left. */
export class BinaryReader {
  private position = 0;

  constructor(
    private readonly buffer: Uint8Array,
    private readonly subject: string,
    private readonly decodeError: DecodeErrorFactory,
  ) {}

  fail(problem: string): never {
    throw this.decodeError(this.subject, `${problem} at byte ${this.position}`);
  }

  get remaining(): number {
    return this.buffer.length - this.position;
  }

  get offset(): number {
    return this.position;
  }

  byte(): number {
    if (this.position >= this.buffer.length) this.fail('unexpected end');
    return this.buffer[this.position++] as number;
  }

  boolean(): boolean {
    const value = this.byte();
    if (value > 1) this.fail('bad boolean');
    return value === 1;
  }

  varuint(): number {
    let value = 0;
    let scale = 1;
    for (let count = 0; count < MAX_VARINT_BYTES; count++) {
      const next = this.byte();
      value += (next & 0x7f) * scale;
      if ((next & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) this.fail('number too large');
        if (count > 0 && next === 0) this.fail('non-minimal number');
        return value;
      }
      scale *= 0x80;
    }
    return this.fail('number too long');
  }

  /** A count of items each taking at least `minimumItemBytes`, checked against what is left. */
  count(minimumItemBytes = 1, limit = Number.MAX_SAFE_INTEGER): number {
    const count = this.varuint();
    if (count > limit) this.fail(`count ${count} exceeds the limit ${limit}`);
    if (count * minimumItemBytes > this.remaining) this.fail(`count ${count} exceeds the remaining bytes`);
    return count;
  }

  /** Length-prefixed bytes as a view of the input (no copy): they share its memory. */
  bytes(limitBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const length = this.varuint();
    if (length > limitBytes) this.fail(`length ${length} exceeds the limit ${limitBytes}`);
    if (length > this.remaining) this.fail(`length ${length} exceeds the remaining bytes`);
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  /** Length-prefixed bytes copied out, for values kept after the input is reused or dropped. */
  bytesCopy(limitBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    return this.bytes(limitBytes).slice();
  }

  binary(): string {
    return bytesToBinary(this.bytes());
  }

  /** UTF-8 text of at most `limitCharacters` characters. */
  text(limitCharacters = Number.MAX_SAFE_INTEGER): string {
    // A UTF-16 code unit takes at most three UTF-8 bytes.
    const raw = this.bytes(limitCharacters >= Number.MAX_SAFE_INTEGER / 3 ? undefined : limitCharacters * 3);
    let value: string;
    try {
      value = textDecoder.decode(raw);
    } catch {
      return this.fail('text is not UTF-8');
    }
    if (value.length > limitCharacters) this.fail('text too long');
    return value;
  }

  uint32(): number {
    if (this.remaining < 4) this.fail('unexpected end');
    const value =
      ((this.buffer[this.position] as number) * 0x1000000 +
        (((this.buffer[this.position + 1] as number) << 16) |
          ((this.buffer[this.position + 2] as number) << 8) |
          (this.buffer[this.position + 3] as number))) >>>
      0;
    this.position += 4;
    return value;
  }

  end(): void {
    if (this.position !== this.buffer.length) this.fail(`${this.remaining} trailing bytes`);
  }
}
