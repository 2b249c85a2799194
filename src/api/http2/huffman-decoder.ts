/**
 * HPACK Huffman decoding (RFC 7541 5.2) as a 4-bit state machine: the states are the internal
 * nodes of the code tree, and one table lookup per half octet gives the next state and the symbol
 * completed on the way, if any (the shortest code is 5 bits, so at most one per half octet). The
 * table is built once at module load from the RFC's code table.
 */
import { HUFFMAN_CODE_LENGTHS_BITS, HUFFMAN_CODES, HUFFMAN_EOS_SYMBOL } from './huffman-code.js';

/** Why a Huffman string did not decode; a decoded length is never negative. */
export const HUFFMAN_EOS_IN_STRING = -1;
export const HUFFMAN_PADDING_OVER_7_BITS = -2;
export const HUFFMAN_PADDING_NOT_ONES = -3;

const NIBBLE_BITS = 4;
const NIBBLES_PER_STATE = 1 << NIBBLE_BITS;
/** The tree of a complete prefix code over 257 symbols has 256 internal nodes: one state each. */
const STATE_COUNT = HUFFMAN_CODES.length - 1;
const ROOT_STATE = 0;
/** Padding is a prefix of EOS (all ones) strictly shorter than one octet (RFC 7541 5.2). */
const PADDING_MAX_BITS = 7;

/** Transition entry layout: next state in bits 0-7, symbol in bits 8-15, then the flags. */
const SYMBOL_SHIFT = 8;
const FLAG_EMIT = 1 << 16;
const FLAG_EOS = 1 << 17;

/** Children of each internal node: a node index, or `~symbol` (negative) for a leaf. */
function buildCodeTree(): { zero: Int32Array; one: Int32Array } {
  const zero = new Int32Array(STATE_COUNT);
  const one = new Int32Array(STATE_COUNT);
  let nodes = 1;
  for (let symbol = 0; symbol < HUFFMAN_CODES.length; symbol++) {
    const code = HUFFMAN_CODES[symbol] as number;
    const length = HUFFMAN_CODE_LENGTHS_BITS[symbol] as number;
    let node = ROOT_STATE;
    for (let bit = length - 1; bit >= 0; bit--) {
      const children = ((code >>> bit) & 1) === 0 ? zero : one;
      if (bit === 0) {
        children[node] = ~symbol;
      } else {
        if (children[node] === 0) children[node] = nodes++;
        node = children[node] as number;
      }
    }
  }
  if (nodes !== STATE_COUNT) throw new Error(`the Huffman code tree has ${nodes} internal nodes`);
  return { zero, one };
}

function buildTransitions(zero: Int32Array, one: Int32Array): Uint32Array {
  const transitions = new Uint32Array(STATE_COUNT * NIBBLES_PER_STATE);
  for (let state = 0; state < STATE_COUNT; state++) {
    for (let nibble = 0; nibble < NIBBLES_PER_STATE; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = NIBBLE_BITS - 1; bit >= 0; bit--) {
        const child = (((nibble >>> bit) & 1) === 0 ? zero : one)[node] as number;
        if (child >= 0) {
          node = child;
          continue;
        }
        const symbol = ~child;
        entry |= symbol === HUFFMAN_EOS_SYMBOL ? FLAG_EOS : FLAG_EMIT | (symbol << SYMBOL_SHIFT);
        node = ROOT_STATE;
      }
      transitions[state * NIBBLES_PER_STATE + nibble] = entry | node;
    }
  }
  return transitions;
}

/** What ending a string in each state means: 0 (a valid end) or the failure's code. */
function buildEndings(one: Int32Array): Int8Array {
  const endings = new Int8Array(STATE_COUNT).fill(HUFFMAN_PADDING_NOT_ONES);
  let node = ROOT_STATE;
  for (let depth = 0; node >= 0; depth++) {
    endings[node] = depth <= PADDING_MAX_BITS ? 0 : HUFFMAN_PADDING_OVER_7_BITS;
    node = one[node] as number;
  }
  return endings;
}

const tree = buildCodeTree();
const TRANSITIONS = buildTransitions(tree.zero, tree.one);
const ENDINGS = buildEndings(tree.one);

/** The most octets `encodedBytes` octets of Huffman code can decode to (5-bit shortest code). */
export function huffmanDecodedBytesMax(encodedBytes: number): number {
  return Math.floor((encodedBytes * 8) / 5);
}

/**
 * Decodes `source[start, end)` into `target` from offset 0 (room for
 * `huffmanDecodedBytesMax(end - start)` octets is the caller's to provide). Returns the decoded
 * length, or one of the negative `HUFFMAN_*` failure codes.
 */
export function decodeHuffman(source: Uint8Array, start: number, end: number, target: Uint8Array): number {
  let state = ROOT_STATE;
  let written = 0;
  for (let offset = start; offset < end; offset++) {
    const octet = source[offset] as number;
    let entry = TRANSITIONS[(state << NIBBLE_BITS) | (octet >>> NIBBLE_BITS)] as number;
    if (entry > 0xffff) {
      if ((entry & FLAG_EOS) !== 0) return HUFFMAN_EOS_IN_STRING;
      target[written++] = (entry >>> SYMBOL_SHIFT) & 0xff;
    }
    entry = TRANSITIONS[((entry & 0xff) << NIBBLE_BITS) | (octet & 0xf)] as number;
    if (entry > 0xffff) {
      if ((entry & FLAG_EOS) !== 0) return HUFFMAN_EOS_IN_STRING;
      target[written++] = (entry >>> SYMBOL_SHIFT) & 0xff;
    }
    state = entry & 0xff;
  }
  const ending = ENDINGS[state] as number;
  return ending === 0 ? written : ending;
}
