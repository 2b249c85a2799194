import { assert, ScratchBuffer } from '../lib/index.js';
import { bytesToBinary, writeBinary } from './bytes.js';
import { KvCodecError } from './errors.js';

const INITIAL_CAPACITY_BYTES = 256;
/** A varint of a safe integer (< 2^53) takes at most 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8;

/** Enough for any command or result short of a large Txn; larger ones grow it. */
const SCRATCH_INITIAL_BYTES = 64 * 1024;
/** Shared by short-lived writers (`BinaryWriter.scratch`), one at a time. */
const scratch = new ScratchBuffer(SCRATCH_INITIAL_BYTES);

/** Appends little binary fields to a growing buffer. Unsigned varints carry safe integers only. */
export class BinaryWriter {
  private buffer: Uint8Array;
  private length = 0;
  private borrowed = false;

  constructor(capacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buffer = new Uint8Array(Math.max(16, capacityBytes));
  }

  /**
   * A writer over the shared scratch buffer when it is free (else a private one). Call `finish`
   * (or `release` after `view`) exactly once when done, which gives the scratch back.
   */
  static scratch(): BinaryWriter {
    const buffer = scratch.borrow(0);
    if (buffer === undefined) return new BinaryWriter();
    const writer = new BinaryWriter(0);
    writer.buffer = buffer;
    writer.borrowed = true;
    return writer;
  }

  /** Gives a borrowed scratch buffer back (grown, if it had to grow). */
  release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    scratch.giveBack(this.buffer);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

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

  bytes(value: Uint8Array): this {
    this.varuint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** Writes a binary string (one byte per character) with its length. */
  binary(value: string): this {
    this.varuint(value.length);
    this.reserve(value.length);
    writeBinary(this.buffer, this.length, value);
    this.length += value.length;
    return this;
  }

  text(value: string): this {
    return this.bytes(new TextEncoder().encode(value));
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
  ) {}

  fail(problem: string): never {
    throw new KvCodecError(this.subject, `${problem} at byte ${this.position}`);
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

  /** A varint that counts items each taking at least `minimumItemBytes` bytes. */
  count(minimumItemBytes = 1): number {
    const count = this.varuint();
    if (count * minimumItemBytes > this.remaining) this.fail(`count ${count} exceeds the remaining bytes`);
    return count;
  }

  bytes(): Uint8Array {
    const length = this.varuint();
    if (length > this.remaining) this.fail(`length ${length} exceeds the remaining bytes`);
    // A view, not a copy: decoded fields share the input buffer.
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  binary(): string {
    return bytesToBinary(this.bytes());
  }

  text(): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes());
    } catch (error) {
      if (error instanceof KvCodecError) throw error;
      return this.fail('text is not UTF-8');
    }
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
