/** What `allocation-counter.ts` writes for one process, and how `allocations.ts` finds it. */
export const ALLOCATION_DIRECTORY_VARIABLE = 'MESHOS_ALLOCATION_DIR';
/** One allocation in this many gets its stack captured (a stack costs microseconds and heap). */
export const STACK_SAMPLE_EVERY = 32;
/** The heap profile's bucket for the counter's own stacks and bookkeeping. */
export const COUNTER_SITE = '(allocation counter itself)';

export interface AllocationReport {
  readonly pid: number;
  readonly durationMs: number;
  /** Buffers with an ArrayBuffer of their own, by how they were made. */
  readonly ownBuffers: Record<string, { count: number; bytes: number }>;
  /** Slices of Node's shared pool. */
  readonly pooledSlices: { count: number; bytes: number };
  /** Estimated counts by call site (sampled stacks times `STACK_SAMPLE_EVERY`), all kinds together. */
  readonly ownBufferSites: Array<{ site: string; count: number }>;
  readonly pooledSliceSites: Array<{ site: string; count: number }>;
  /** Used heap before each GC less after the one before, summed (the counter's own bytes included). */
  readonly heapAllocatedBytes: number;
  readonly gcs: Record<string, number>;
  /** Sampling heap profile, bytes by innermost MeshOS frame (or the package without one). */
  readonly heapSites: Array<{ site: string; bytes: number }>;
}
