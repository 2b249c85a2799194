import { assert } from './errors.js';

/**
 * Long work cut into bounded steps, so whoever runs it can give the event loop a turn between
 * steps (a snapshot of a million keys takes seconds; an election timeout is a few hundred ms).
 * The task is pure: it decides what one step does; the runner decides when steps run.
 */
export interface SteppedTask<Result> {
  /** Does one bounded step; true once the work is finished and `result` may be called. */
  step(): boolean;
  result(): Result;
  /** Gives up the work and releases what it holds; no further steps. */
  cancel(): void;
}

/**
 * A stepped task fed its input in parts (a snapshot read from its file a part at a time): while
 * `wantsBytes`, the runner pushes the next part instead of stepping; the parts, in order, are the
 * whole input.
 */
export interface FedTask<Result> extends SteppedTask<Result> {
  readonly wantsBytes: boolean;
  push(part: Uint8Array): void;
}

/** Runs a task to its end in one go (callers that may block, such as a process starting up). */
export function runToEnd<Result>(task: SteppedTask<Result>): Result {
  while (!task.step()) {}
  return task.result();
}

/** Bytes one step of `ChunkConcatenation` copies at most (into fresh pages: a few ms). */
export const CONCATENATE_STEP_BYTES = 2 * 1024 * 1024;

/** Copies a list of chunks into one buffer, `CONCATENATE_STEP_BYTES` per step. */
export class ChunkConcatenation implements SteppedTask<Uint8Array> {
  private readonly output: Uint8Array;
  private chunkIndex = 0;
  /** Bytes of the current chunk already copied. */
  private chunkOffset = 0;
  private outputOffset = 0;

  constructor(
    private readonly chunks: readonly Uint8Array[],
    private readonly stepBytes = CONCATENATE_STEP_BYTES,
  ) {
    assert(stepBytes > 0, 'a concatenation step must copy something');
    let total = 0;
    for (const chunk of chunks) total += chunk.byteLength;
    this.output = new Uint8Array(total);
  }

  step(): boolean {
    let budget = this.stepBytes;
    while (this.chunkIndex < this.chunks.length && budget > 0) {
      const chunk = this.chunks[this.chunkIndex] as Uint8Array;
      const length = Math.min(budget, chunk.byteLength - this.chunkOffset);
      this.output.set(chunk.subarray(this.chunkOffset, this.chunkOffset + length), this.outputOffset);
      this.outputOffset += length;
      this.chunkOffset += length;
      budget -= length;
      if (this.chunkOffset === chunk.byteLength) {
        this.chunkIndex++;
        this.chunkOffset = 0;
      }
    }
    return this.chunkIndex === this.chunks.length;
  }

  result(): Uint8Array {
    assert(this.chunkIndex === this.chunks.length, 'concatenation read before it finished');
    return this.output;
  }

  cancel(): void {
    this.chunkIndex = this.chunks.length;
  }
}

/**
 * Stable bottom-up merge sort a bounded number of moves per step (`Array.prototype.sort` of a
 * million items holds the event loop for a second). Sorts `items` in place once finished.
 */
export class SteppedMergeSort<T> implements SteppedTask<T[]> {
  private source: T[];
  private target: T[];
  private width = 1;
  /** Start of the next pair of runs to merge in this pass. */
  private pairStart = 0;
  private merging = false;
  private left = 0;
  private leftEnd = 0;
  private right = 0;
  private rightEnd = 0;
  private out = 0;
  private copiedBack = 0;

  constructor(
    private readonly items: T[],
    private readonly compare: (left: T, right: T) => number,
    private readonly stepMoves: number,
  ) {
    assert(stepMoves > 0, 'a sort step must move something');
    this.source = items;
    this.target = new Array<T>(items.length);
  }

  step(): boolean {
    const length = this.items.length;
    let budget = this.stepMoves;
    while (this.width < length) {
      if (!this.merging) {
        if (this.pairStart >= length) {
          [this.source, this.target] = [this.target, this.source];
          this.width *= 2;
          this.pairStart = 0;
          continue;
        }
        this.left = this.pairStart;
        this.out = this.pairStart;
        this.leftEnd = Math.min(this.pairStart + this.width, length);
        this.right = this.leftEnd;
        this.rightEnd = Math.min(this.pairStart + 2 * this.width, length);
        this.merging = true;
      }
      budget -= this.mergeSome(budget);
      if (this.out === this.rightEnd) {
        this.merging = false;
        this.pairStart = this.rightEnd;
      }
      if (budget <= 0) return false;
    }
    if (this.source !== this.items) {
      // An odd number of passes left the order in the spare array: copy it back, bounded too.
      const stop = Math.min(length, this.copiedBack + budget);
      for (; this.copiedBack < stop; this.copiedBack++) {
        this.items[this.copiedBack] = this.source[this.copiedBack] as T;
      }
      if (this.copiedBack < length) return false;
      this.source = this.items;
    }
    return true;
  }

  /** Moves up to `budget` items of the current pair into the target; returns how many. */
  private mergeSome(budget: number): number {
    const { source, target, leftEnd, rightEnd, compare } = this;
    let { left, right, out } = this;
    const stop = Math.min(rightEnd, out + budget);
    while (out < stop) {
      if (right >= rightEnd || (left < leftEnd && compare(source[left] as T, source[right] as T) <= 0)) {
        target[out++] = source[left++] as T;
      } else {
        target[out++] = source[right++] as T;
      }
    }
    const moved = out - this.out;
    this.left = left;
    this.right = right;
    this.out = out;
    return moved;
  }

  result(): T[] {
    assert(this.source === this.items && this.merging === false, 'sort read before it finished');
    return this.items;
  }

  cancel(): void {
    this.width = this.items.length;
    this.source = this.items;
  }
}

/** Runs `first`, then the task `next` makes of its result, as one task. */
export function followedBy<First, Result>(
  first: SteppedTask<First>,
  next: (result: First) => SteppedTask<Result>,
): SteppedTask<Result> {
  let second: SteppedTask<Result> | undefined;
  let cancelled = false;
  return {
    step: () => {
      if (cancelled) return true;
      if (second !== undefined) return second.step();
      if (first.step()) second = next(first.result());
      return false;
    },
    result: () => {
      assert(second !== undefined && !cancelled, 'task read before it finished');
      return second.result();
    },
    cancel: () => {
      cancelled = true;
      first.cancel();
      second?.cancel();
    },
  };
}

/** A task of one step: `work` runs whole (for state small enough not to need steps). */
export function singleStep<Result>(work: () => Result): SteppedTask<Result> {
  let done = false;
  let value: Result | undefined;
  return {
    step: () => {
      if (!done) {
        value = work();
        done = true;
      }
      return true;
    },
    result: () => {
      assert(done, 'task read before it ran');
      return value as Result;
    },
    cancel: () => {
      done = true;
    },
  };
}
