import { ENTRY_OVERHEAD_BYTES } from './constants.js';
import type { Entry } from './types.js';

/** The bytes an entry counts for in append and inflight limits. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}
