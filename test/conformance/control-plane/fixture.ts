/** What the control-plane conformance suite needs from each of the stores it runs against. */
import type { ControlPlane } from '../../../src/control/index.js';
import type { Clock } from '../../../src/lib/index.js';

export interface ControlPlaneFixture {
  /** A fresh plane on the store, its keys under `root`. */
  open(root: string, options?: { readonly clock?: Clock }): Promise<ControlPlane>;
  /** Drops the store's history before `revision`, as an operator or auto-compaction would. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (text: string): Uint8Array => encoder.encode(text);
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : decoder.decode(value);

let rootCounter = 0;
/** A root of its own for each test, so tests on one store never see each other's keys. */
export function freshRoot(label: string): string {
  rootCounter += 1;
  return `/conformance-${label}-${process.pid}-${rootCounter}/meshos/v1/`;
}
