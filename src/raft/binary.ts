import { ScratchBuffer } from '../lib/index.js';
import { MAX_CLUSTER_NODES } from './constants.js';
import { MessageDecodeError } from './errors.js';
import type { NodeId } from './types.js';

/** Unsigned LEB128 varints, length-prefixed byte strings and UTF-8 strings, bounds-checked. */
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
/** A varint of a safe integer takes at most 8 bytes (7 bits each, 53 bits). */
const MAX_VARINT_BYTES = 8;

/** Enough for an append message of typical batches; larger messages allocate their own. */
const SCRATCH_INITIAL_BYTES = 256 * 1024;
/** Shared by short-lived writers (`BinaryWriter.scratch`), one at a time. */
const scratch = new ScratchBuffer(SCRATCH_INITIAL_BYTES);

export class BinaryWriter {
  bytes: Uint8Array;
  length = 0;
  private borrowed = false;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /**
   * A writer over the shared scratch buffer when it is free (else a private one of `capacity`),
   * so an encoding costs one exact-size allocation, in `finish`, which gives the scratch back.
   */
  static scratch(capacity: number): BinaryWriter {
    const buffer = scratch.borrow(capacity);
    if (buffer === undefined) return new BinaryWriter(capacity);
    const writer = new BinaryWriter(0);
    writer.bytes = buffer;
    writer.borrowed = true;
    return writer;
  }

  /** Gives a borrowed scratch buffer back; `finish` does this itself. */
  release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    scratch.giveBack(this.bytes);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  varint(value: number): void {
    this.reserve(MAX_VARINT_BYTES);
    while (value >= 0x80) {
      this.bytes[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.length++] = value;
  }

  bytesField(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
  }

  string(value: string): void {
    this.bytesField(textEncoder.encode(value));
  }

  nodes(values: readonly NodeId[]): void {
    this.varint(values.length);
    for (const value of values) this.varint(value);
  }

  finish(): Uint8Array {
    const bytes = this.bytes.slice(0, this.length);
    this.release();
    return bytes;
  }
}

export class BinaryReader {
  private position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  fail(reason: string): never {
    throw new MessageDecodeError(this.what, `${reason} at byte ${this.position}`);
  }

  remaining(): number {
    return this.bytes.length - this.position;
  }

  byte(): number {
    if (this.position >= this.bytes.length) this.fail('truncated');
    return this.bytes[this.position++]!;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let count = 0; count < MAX_VARINT_BYTES; count++) {
      const value = this.byte();
      result += (value & 0x7f) * scale;
      if ((value & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) this.fail('number out of range');
        if (count > 0 && value === 0) this.fail('non-minimal number');
        return result;
      }
      scale *= 0x80;
    }
    return this.fail('number too long');
  }

  boolean(): boolean {
    const value = this.byte();
    if (value > 1) this.fail('bad boolean');
    return value === 1;
  }

  node(): NodeId {
    const value = this.varint();
    if (value === 0) this.fail('node id 0');
    return value;
  }

  /** A count of items each at least `minimumItemBytes` long, checked against what is left. */
  count(minimumItemBytes: number, limit: number): number {
    const value = this.varint();
    if (value > limit || value * minimumItemBytes > this.remaining()) this.fail('count exceeds input');
    return value;
  }

  bytesField(limit: number): Uint8Array {
    const length = this.varint();
    if (length > limit || length > this.remaining()) this.fail('length exceeds input');
    const value = this.bytes.slice(this.position, this.position + length);
    this.position += length;
    return value;
  }

  string(limit: number): string {
    const raw = this.bytesField(limit * 3);
    let value: string;
    try {
      value = textDecoder.decode(raw);
    } catch {
      return this.fail('invalid UTF-8');
    }
    if (value.length > limit) this.fail('string too long');
    return value;
  }

  nodes(): NodeId[] {
    const count = this.count(1, MAX_CLUSTER_NODES);
    const result: NodeId[] = [];
    for (let index = 0; index < count; index++) result.push(this.node());
    return result;
  }

  end(): void {
    if (this.position !== this.bytes.length) this.fail('trailing bytes');
  }
}
