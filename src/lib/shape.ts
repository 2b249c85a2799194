/**
 * For checking values that arrive from plain JavaScript, where the declared types promise
 * nothing: a config that is not an object, a number given as a string, a missing field.
 */

/** A non-null, non-array object whose fields may be read. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DESCRIBED_STRING_CHARACTERS = 40;

/** A short description of a value for an error message: `undefined`, `null`, `"abc"`, `42`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(
        value.length > DESCRIBED_STRING_CHARACTERS
          ? `${value.slice(0, DESCRIBED_STRING_CHARACTERS)}…`
          : value,
      );
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return value instanceof Uint8Array ? `${value.length} bytes` : 'an object';
  }
}
