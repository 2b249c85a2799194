/** A definition as read from the control plane, with the mod revision a compare-and-swap compares. */
import type { ControlEntry } from '../control/index.js';
import { decodeChainDefinition } from './definition-codec.js';
import type { ChainDefinition } from './types.js';

export interface StoredChain {
  readonly definition: ChainDefinition;
  readonly modRevision: number;
}

/** A definition entry decoded (CONTROL_RECORD_DECODE when it is not one). */
export function storedChainOf(entry: ControlEntry): StoredChain {
  return { definition: decodeChainDefinition(entry.key, entry.value), modRevision: entry.modRevision };
}
