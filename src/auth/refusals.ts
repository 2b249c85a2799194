/** Refusals of one node, counted by error code for /metrics, each told to a listener (the log). */
import type { MeshError } from '../lib/index.js';

export interface AuthRefusal {
  readonly code: string;
  readonly message: string;
  /** The request's method or kind, for the log. */
  readonly what: string;
}

export class AuthRefusals {
  private readonly counts = new Map<string, number>();
  onRefusal: (refusal: AuthRefusal) => void = () => {};

  record(error: MeshError, what: string): void {
    this.counts.set(error.code, (this.counts.get(error.code) ?? 0) + 1);
    this.onRefusal({ code: error.code, message: error.message, what });
  }

  /** Counts so far, by code. */
  byCode(): ReadonlyMap<string, number> {
    return this.counts;
  }
}
