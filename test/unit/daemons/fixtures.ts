import type { DaemonKindContext } from '../../../src/daemons/index.js';
import { parseNodeId } from '../../../src/lib/index.js';

export const textEncoder = new TextEncoder();
export const textDecoder = new TextDecoder();

export function context(daemonName = 'd1', memberIndex = 0): DaemonKindContext {
  return { daemonName, memberIndex, node: parseNodeId('1') };
}

export function eventOf(text: string): { payload: Uint8Array } {
  return { payload: textEncoder.encode(text) };
}

export function texts(outputs: readonly Uint8Array[]): string[] {
  return outputs.map((output) => textDecoder.decode(output));
}
