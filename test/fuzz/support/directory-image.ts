/**
 * A data directory as bytes (file names and contents), damaged the ways a disk damages one: bytes
 * of a file mutated, one record of a segment rewritten with valid checksums around a mutated body
 * (so the damage reaches the record decoders past the CRC), a file lost, a segment renamed to
 * another first index. The fuzzers write the image into a directory and open it through the real
 * recovery path.
 */
import fc from 'fast-check';
import type { Disk } from '../../../src/lib/index.js';
import {
  encodeFrame,
  joinPath,
  parseSegmentFileName,
  RECORD_HEADER_BYTES,
  segmentFileName,
} from '../../../src/store/index.js';
import { applyMutations, type Mutation, mutationsArbitrary } from './mutations.js';

export interface DirectoryFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export type DirectoryImage = readonly DirectoryFile[];

type DirectoryDamage =
  | { readonly kind: 'bytes'; readonly file: number; readonly mutations: readonly Mutation[] }
  | {
      readonly kind: 'record';
      readonly file: number;
      readonly record: number;
      readonly mutations: readonly Mutation[];
    }
  | { readonly kind: 'drop'; readonly file: number }
  | { readonly kind: 'rename'; readonly file: number; readonly shift: number };

const damageArbitrary: fc.Arbitrary<DirectoryDamage> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      file: fc.nat(),
      mutations: mutationsArbitrary,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      file: fc.nat(),
      record: fc.nat(),
      mutations: mutationsArbitrary,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), file: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rename' as const),
      file: fc.nat(),
      shift: fc.integer({ min: -3, max: 3 }),
    }),
  },
);

/**
 * Start and end of each whole record frame in a segment, read from its length fields alone, up
 * to an all-zero header (no frame: the preallocated, unused rest of an active segment).
 */
export function recordSpans(bytes: Uint8Array): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= bytes.byteLength) {
    if (bytes.subarray(offset, offset + RECORD_HEADER_BYTES).every((byte) => byte === 0)) break;
    const end = offset + RECORD_HEADER_BYTES + view.getUint32(offset, true);
    if (end > bytes.byteLength) break;
    spans.push({ start: offset, end });
    offset = end;
  }
  return spans;
}

/** The segment with one record's body mutated and framed again with fresh checksums. */
function reframeRecord(bytes: Uint8Array, record: number, mutations: readonly Mutation[]): Uint8Array {
  const spans = recordSpans(bytes);
  const span = spans[record % Math.max(1, spans.length)];
  if (span === undefined) return bytes;
  const body = applyMutations(bytes.slice(span.start + RECORD_HEADER_BYTES, span.end), mutations);
  // Framing writes into pooled memory: copy it out before the next frame is made.
  const frame = encodeFrame(bytes[span.start + 4]!, body.byteLength, (payload) => {
    new Uint8Array(payload.buffer, payload.byteOffset, body.byteLength).set(body);
  }).slice();
  const out = new Uint8Array(bytes.byteLength - (span.end - span.start) + frame.byteLength);
  out.set(bytes.subarray(0, span.start));
  out.set(frame, span.start);
  out.set(bytes.subarray(span.end), span.start + frame.byteLength);
  return out;
}

function applyDamage(image: DirectoryImage, damage: DirectoryDamage): DirectoryImage {
  if (image.length === 0) return image;
  const position = damage.file % image.length;
  const file = image[position]!;
  const replaced = (next: DirectoryFile | undefined): DirectoryImage =>
    next === undefined
      ? image.filter((_, index) => index !== position)
      : image.map((old, index) => (index === position ? next : old));
  switch (damage.kind) {
    case 'bytes':
      return replaced({ name: file.name, bytes: applyMutations(file.bytes, damage.mutations) });
    case 'record':
      return replaced({ name: file.name, bytes: reframeRecord(file.bytes, damage.record, damage.mutations) });
    case 'drop':
      return replaced(undefined);
    case 'rename': {
      const firstIndex = parseSegmentFileName(file.name);
      if (firstIndex === undefined || firstIndex + damage.shift < 0) return image;
      const name = segmentFileName(firstIndex + damage.shift);
      if (image.some((other) => other.name === name)) return image;
      return replaced({ name, bytes: file.bytes });
    }
  }
}

/** A corpus image, damaged one to three times (sometimes left whole). */
export function damagedImages(corpus: readonly DirectoryImage[]): fc.Arbitrary<DirectoryImage> {
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(damageArbitrary, { minLength: 0, maxLength: 3 }))
    .map(([image, damages]) => damages.reduce(applyDamage, image));
}

/** Writes the image into `directory` (created), replacing nothing else. */
export async function writeImage(disk: Disk, directory: string, image: DirectoryImage): Promise<void> {
  await disk.makeDirectory(directory);
  for (const file of image) {
    const handle = await disk.open(joinPath(directory, file.name), 'create');
    await handle.append(file.bytes);
    await handle.close();
  }
}

/** Every file of `directory` as an image. */
export async function readImage(disk: Disk, directory: string): Promise<DirectoryImage> {
  const image: DirectoryFile[] = [];
  for (const name of await disk.list(directory)) {
    image.push({ name, bytes: await disk.readFile(joinPath(directory, name)) });
  }
  return image;
}
