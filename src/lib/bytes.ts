/**
 * Uninitialized bytes carved from Node's shared allocation pool: about ten times cheaper than
 * `new Uint8Array` for small sizes. Only for bytes that are filled completely, written out
 * (to a socket or a file) and dropped: one slice kept alive holds its whole pool chunk, so
 * anything stored (log entries, keys, values) must own its memory.
 */
export function scratchBytes(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/** A DataView over exactly `bytes`, wherever it sits in its ArrayBuffer. */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
