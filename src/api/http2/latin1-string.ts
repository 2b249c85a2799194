/**
 * Octets to a latin1 string (one character per octet), the way that is fastest for its length:
 * below 17 octets `String.fromCharCode` with the octets as arguments (about a quarter of the
 * time of a call into Node's `latin1Slice`, measured: 26 against 127 ns for 8 octets, 49
 * against 83 for 22), above it `latin1Slice`, whose native call costs less than the copying then.
 */

/**
 * Node's Buffer has the latin1 decoder `toString('latin1', ...)` ends in as a method of its own
 * (undocumented, in every Node version we run); calling it directly skips the encoding-name
 * dispatch on each string.
 */
export interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Octet counts up to this one take the `String.fromCharCode` path. */
export const SHORT_STRING_OCTETS_MAX = 16;

export function latin1String(bytes: Latin1Buffer, start: number, end: number): string {
  switch (end - start) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(bytes[start] as number);
    case 2:
      return String.fromCharCode(bytes[start] as number, bytes[start + 1] as number);
    case 3:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
      );
    case 4:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
      );
    case 5:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
      );
    case 6:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
      );
    case 7:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
      );
    case 8:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
      );
    case 9:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
      );
    case 10:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
      );
    case 11:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
      );
    case 12:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
        bytes[start + 11] as number,
      );
    case 13:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
        bytes[start + 11] as number,
        bytes[start + 12] as number,
      );
    case 14:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
        bytes[start + 11] as number,
        bytes[start + 12] as number,
        bytes[start + 13] as number,
      );
    case 15:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
        bytes[start + 11] as number,
        bytes[start + 12] as number,
        bytes[start + 13] as number,
        bytes[start + 14] as number,
      );
    case 16:
      return String.fromCharCode(
        bytes[start] as number,
        bytes[start + 1] as number,
        bytes[start + 2] as number,
        bytes[start + 3] as number,
        bytes[start + 4] as number,
        bytes[start + 5] as number,
        bytes[start + 6] as number,
        bytes[start + 7] as number,
        bytes[start + 8] as number,
        bytes[start + 9] as number,
        bytes[start + 10] as number,
        bytes[start + 11] as number,
        bytes[start + 12] as number,
        bytes[start + 13] as number,
        bytes[start + 14] as number,
        bytes[start + 15] as number,
      );
    default:
      return bytes.latin1Slice(start, end);
  }
}
