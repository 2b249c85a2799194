/**
 * One reusable buffer, lent to one borrower at a time, so an encoder that grows its output
 * pays for a single exact-size copy at the end instead of an allocation per growth. A
 * borrower that finds it lent out (a nested encoding) simply allocates its own.
 */
/** A scratch buffer grown past this for one huge encoding is dropped rather than kept. */
export const MAX_KEPT_SCRATCH_BYTES = 4 * 1024 * 1024;

export class ScratchBuffer {
  private spare: Uint8Array | undefined;

  constructor(
    initialBytes: number,
    private readonly maxKeptBytes = MAX_KEPT_SCRATCH_BYTES,
  ) {
    this.spare = new Uint8Array(initialBytes);
  }

  /** The buffer if it is free and holds at least `minimumBytes`; undefined otherwise. */
  borrow(minimumBytes: number): Uint8Array | undefined {
    const spare = this.spare;
    if (spare === undefined || spare.length < minimumBytes) return undefined;
    this.spare = undefined;
    return spare;
  }

  /** Takes the (possibly grown) buffer back. */
  giveBack(buffer: Uint8Array): void {
    if (buffer.length <= this.maxKeptBytes) this.spare = buffer;
  }
}

/**
 * Runs `encode` on a writer borrowed from scratch space and returns its `finish()` result (or
 * what `finish` makes of it: pooled bytes, for `BinaryWriter.transient`);
 * the scratch is given back even when `encode` throws.
 */
export function encodeWithScratch<Writer extends { finish(): Uint8Array; release(): void }>(
  writer: Writer,
  encode: (writer: Writer) => void,
  finish: (writer: Writer) => Uint8Array = (done) => done.finish(),
): Uint8Array {
  try {
    encode(writer);
    return finish(writer);
  } finally {
    writer.release();
  }
}
