/**
 * Most mesh records are JSON objects: these turn one into stored bytes and back, with a typed
 * error when the bytes are not the record the reader expected.
 */
import { ControlBadValueError, ControlRecordDecodeError } from './errors.js';
import { checkValue } from './keys.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a parsed value and answers it typed; throws (any error) when it is not the record.
 * `readRecord` wraps that throw in a `ControlRecordDecodeError`.
 */
export type RecordReader<T> = (value: unknown) => T;

/** A record as stored bytes (UTF-8 JSON); CONTROL_BAD_VALUE if it is not JSON or too large. */
export function encodeRecord(key: string, record: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(record);
  } catch (error) {
    throw new ControlBadValueError(key, `not JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new ControlBadValueError(key, 'not JSON: nothing to encode');
  const bytes = encoder.encode(text);
  checkValue(key, bytes);
  return bytes;
}

/** Parses stored bytes as JSON and checks them with `read`; CONTROL_RECORD_DECODE otherwise. */
export function readRecord<T>(key: string, bytes: Uint8Array, read: RecordReader<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new ControlRecordDecodeError(key, 'not UTF-8 JSON', error);
  }
  try {
    return read(parsed);
  } catch (error) {
    throw new ControlRecordDecodeError(key, (error as Error).message, error);
  }
}
