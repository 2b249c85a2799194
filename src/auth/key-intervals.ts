/**
 * Key intervals for permission checks, pure. Keys are binary strings (one char per byte, so
 * string order is byte order). An interval is half-open, [start, end), `end` null for "every key
 * from start on". A single key k is [k, k + "\0"): nothing sorts between k and that.
 */
import type { KeyRange } from '../kv/index.js';

export interface KeyInterval {
  readonly start: string;
  readonly end: string | null;
}

/** The interval a permission's (key, rangeEnd) names, as etcd reads them: empty end = one key, "\0" = from key. */
export function permissionInterval(key: string, rangeEnd: string): KeyInterval {
  if (rangeEnd === '') return { start: key, end: `${key}\0` };
  if (rangeEnd === '\0') return { start: key, end: null };
  return { start: key, end: rangeEnd };
}

/** The interval of a request's resolved range (see the KV's `resolveRange`). */
export function requestInterval(range: KeyRange): KeyInterval {
  if (range.single) return { start: range.start, end: `${range.start}\0` };
  // An empty range ([k, k)) reads nothing; it is checked as the one key it starts at.
  if (range.end !== null && range.end <= range.start) return { start: range.start, end: `${range.start}\0` };
  return { start: range.start, end: range.end };
}

/** Sorted, non-overlapping intervals covering exactly what `intervals` cover together. */
export function mergeIntervals(intervals: readonly KeyInterval[]): KeyInterval[] {
  const sorted = [...intervals].sort((left, right) =>
    left.start < right.start ? -1 : left.start > right.start ? 1 : 0,
  );
  const merged: KeyInterval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && (last.end === null || interval.start <= last.end)) {
      const end =
        last.end === null || interval.end === null ? null : last.end > interval.end ? last.end : interval.end;
      merged[merged.length - 1] = { start: last.start, end };
    } else merged.push(interval);
  }
  return merged;
}

/** Whether `request` lies wholly inside the union of `merged` (as `mergeIntervals` returns it). */
export function coveredBy(merged: readonly KeyInterval[], request: KeyInterval): boolean {
  for (const interval of merged) {
    if (interval.start > request.start) return false;
    if (interval.end === null) return true;
    if (request.end !== null && request.end <= interval.end) return true;
  }
  return false;
}
