/**
 * Keys as callers write them (strings relative to the plane's root) and as the store holds them
 * (UTF-8 bytes with the root in front). Every key is checked here once, so a backend never sees
 * a key that etcd 3.4 and MeshOS would not both store and give back unchanged.
 */
import { prefixRangeEnd } from '../client/index.js';
import { ControlBadKeyError, ControlBadRequestError, ControlBadValueError } from './errors.js';
import { MAX_CONTROL_KEY_BYTES, MAX_CONTROL_VALUE_BYTES } from './limits.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const LAST_CONTROL_CHARACTER = 0x1f;
const DELETE_CHARACTER = 0x7f;

/** Control characters and lone surrogates: they do not survive as readable, round-tripping text. */
function hasUnsafeCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code <= LAST_CONTROL_CHARACTER || code === DELETE_CHARACTER) return true;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      index += 1;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/** Longest root prefix, in UTF-8 bytes; the rest of MAX_CONTROL_KEY_BYTES is for keys. */
export const MAX_CONTROL_ROOT_BYTES = 128;

/** A key range in store bytes: [start, end), or the single key `start` when `end` is undefined. */
export interface StoreRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/** Problems with a root prefix, empty when it is fine. */
export function rootProblems(root: string): string[] {
  const problems: string[] = [];
  if (!root.startsWith('/') || !root.endsWith('/') || root.length < 2) {
    problems.push(`root '${root}' must start and end with '/' and name at least one segment`);
  }
  if (hasUnsafeCharacter(root)) problems.push('root holds control characters or lone surrogates');
  if (encoder.encode(root).length > MAX_CONTROL_ROOT_BYTES) {
    problems.push(`root is longer than ${MAX_CONTROL_ROOT_BYTES} bytes`);
  }
  return problems;
}

export class ControlKeys {
  private readonly rootBytes: Uint8Array;

  constructor(readonly root: string) {
    this.rootBytes = encoder.encode(root);
  }

  /** The stored form of a single key; the key must be non-empty. */
  key(key: string): Uint8Array {
    if (typeof key !== 'string' || key.length === 0) throw new ControlBadKeyError(String(key), 'empty');
    return this.encode(key);
  }

  /** The stored range of every key starting with `prefix` ('' is the whole root). */
  prefix(prefix: string): StoreRange {
    if (typeof prefix !== 'string') throw new ControlBadKeyError(String(prefix), 'not a string');
    const start = this.encode(prefix);
    return { start, end: prefixRangeEnd(start) };
  }

  /** Keys under `prefix` that sort after `after` (a page's last key). */
  prefixAfter(prefix: string, after: string): StoreRange {
    const range = this.prefix(prefix);
    if (!after.startsWith(prefix)) {
      throw new ControlBadRequestError(`startAfter '${after}' is not under the prefix '${prefix}'`);
    }
    const afterBytes = this.key(after);
    // The smallest key greater than `after` is `after` followed by a zero byte.
    const start = new Uint8Array(afterBytes.length + 1);
    start.set(afterBytes);
    return { start, end: range.end };
  }

  /** A stored key back as the caller's relative key. */
  relative(stored: Uint8Array): string {
    const text = decoder.decode(stored);
    return text.startsWith(this.root) ? text.slice(this.root.length) : text;
  }

  private encode(key: string): Uint8Array {
    if (hasUnsafeCharacter(key))
      throw new ControlBadKeyError(key, 'holds control characters or lone surrogates');
    const body = encoder.encode(key);
    const full = new Uint8Array(this.rootBytes.length + body.length);
    full.set(this.rootBytes);
    full.set(body, this.rootBytes.length);
    if (full.length > MAX_CONTROL_KEY_BYTES) {
      throw new ControlBadKeyError(
        key,
        `${full.length} bytes with the root, more than ${MAX_CONTROL_KEY_BYTES}`,
      );
    }
    return full;
  }
}

/** Checks a value before it is sent. */
export function checkValue(key: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new ControlBadValueError(key, 'not a Uint8Array');
  if (value.length > MAX_CONTROL_VALUE_BYTES) {
    throw new ControlBadValueError(key, `${value.length} bytes, more than ${MAX_CONTROL_VALUE_BYTES}`);
  }
}
