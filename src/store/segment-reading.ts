import type { Disk, DiskFile } from '../lib/index.js';
import { nonZeroEnd, type SegmentScan, scanSegment } from './record-frame.js';

/** Bytes read at a time while looking for the end of a segment's data from its end, on a disk without `dataEnd`. */
const TAIL_READ_BYTES = 64 * 1024;

/** A segment's bytes as far as recovery needs them, with their scan. */
export interface ReadSegment {
  /** The file's bytes from its start; the file runs on past them in zeros alone. */
  readonly bytes: Uint8Array;
  readonly scan: SegmentScan;
}

/**
 * Reads and scans the segment at `filePath`. A sealed segment is read whole. The last one may
 * be preallocated (tens of megabytes, mostly zeros): it is read from its end to the last byte
 * that is not zero (`DiskFile.dataEnd`, else in small pieces), and only the bytes before that (plus whatever a record there
 * needs) are kept and scanned. Zeros are what the scan would find after them anyway: past the
 * bytes kept they change no verdict, as no record starts in zeros.
 */
export async function readSegment(disk: Disk, filePath: string, isLast: boolean): Promise<ReadSegment> {
  if (!isLast) {
    const bytes = await disk.readFile(filePath);
    return { bytes, scan: scanSegment(bytes, filePath, false) };
  }
  const file = await disk.open(filePath, 'read');
  try {
    const size = await file.size();
    let keptBytes = await dataEnd(file, size);
    for (;;) {
      const bytes = await file.readAt(0, keptBytes);
      const scan = scanSegment(bytes, filePath, true);
      // A frame that runs past the bytes kept (its last bytes zeros) is read whole and scanned again.
      const cutShort =
        scan.tornReason !== undefined && !scan.zeroTail && scan.tornEndOffset >= bytes.byteLength;
      if (!cutShort || keptBytes >= size) return { bytes, scan };
      keptBytes = Math.min(size, Math.max(2 * keptBytes, keptBytes + TAIL_READ_BYTES));
    }
  } finally {
    await file.close();
  }
}

/** The offset after the last byte of `file` (of `size` bytes) that is not zero; 0 if none is. */
async function dataEnd(file: DiskFile, size: number): Promise<number> {
  let end = Math.min(size, (await file.dataEnd?.()) ?? size);
  while (end > 0) {
    const start = Math.max(0, end - TAIL_READ_BYTES);
    const pieceEnd = nonZeroEnd(await file.readAt(start, end - start));
    if (pieceEnd > 0) return start + pieceEnd;
    end = start;
  }
  return 0;
}
