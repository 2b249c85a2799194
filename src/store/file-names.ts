/**
 * File names in a store directory. Indexes are zero-padded to 20 digits (enough for any
 * u64) so that name order is index order.
 *
 *   log-<first index>.wal       a write-ahead log segment
 *   snapshot-<index>.snap       a snapshot covering entries up to <index>
 *   <name>.tmp                  a file being written; removed at open
 */
const INDEX_DIGITS = 20;
const SEGMENT_PATTERN = /^log-(\d{20})\.wal$/;
const SNAPSHOT_PATTERN = /^snapshot-(\d{20})\.snap$/;
export const TEMPORARY_SUFFIX = '.tmp';

export function segmentFileName(firstIndex: number): string {
  return `log-${String(firstIndex).padStart(INDEX_DIGITS, '0')}.wal`;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(INDEX_DIGITS, '0')}.snap`;
}

export function parseSegmentFileName(name: string): number | undefined {
  return parseIndex(SEGMENT_PATTERN.exec(name)?.[1]);
}

export function parseSnapshotFileName(name: string): number | undefined {
  return parseIndex(SNAPSHOT_PATTERN.exec(name)?.[1]);
}

function parseIndex(digits: string | undefined): number | undefined {
  if (digits === undefined) return undefined;
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function joinPath(directory: string, name: string): string {
  return directory.endsWith('/') ? `${directory}${name}` : `${directory}/${name}`;
}
