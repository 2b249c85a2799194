import { dataViewOf, MeshError } from '../../lib/index.js';

/**
 * The simulator's replicated key-value commands as bytes. Layout: one opcode byte, then
 * each field as a presence byte (0 absent, 1 present) and, when present, a 4-byte big-endian
 * length and that many UTF-8 bytes. Only the cas expected value may be absent.
 */
export type KvCommand =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** Largest encoded key or value the simulator's state machine accepts. */
export const MAX_KV_FIELD_BYTES = 64 * 1024;

const OPCODE_PUT = 1;
const OPCODE_GET = 2;
const OPCODE_CAS = 3;

export class KvCommandDecodeError extends MeshError {
  constructor(reason: string) {
    super('KV_COMMAND_INVALID', `cannot decode key-value command: ${reason}`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeKvCommand(command: KvCommand): Uint8Array {
  let opcode: number;
  let fields: (string | null)[];
  switch (command.kind) {
    case 'put':
      opcode = OPCODE_PUT;
      fields = [command.key, command.value];
      break;
    case 'get':
      opcode = OPCODE_GET;
      fields = [command.key];
      break;
    case 'cas':
      opcode = OPCODE_CAS;
      fields = [command.key, command.expected, command.value];
      break;
  }
  const encoded = fields.map((field) => (field === null ? null : encodeText(field)));
  let length = 1;
  for (const part of encoded) length += 1 + (part === null ? 0 : 4 + part.length);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = opcode;
  let offset = 1;
  for (const part of encoded) {
    out[offset++] = part === null ? 0 : 1;
    if (part === null) continue;
    view.setUint32(offset, part.length);
    offset += 4;
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  const view = dataViewOf(bytes);
  let offset = 1;
  if (bytes.length < 1) throw new KvCommandDecodeError('empty');
  const readField = (name: string, nullable: boolean): string | null => {
    if (offset >= bytes.length) throw new KvCommandDecodeError(`${name}: missing presence byte`);
    const present = bytes[offset++];
    if (present === 0) {
      if (!nullable) throw new KvCommandDecodeError(`${name} is absent`);
      return null;
    }
    if (present !== 1) throw new KvCommandDecodeError(`${name}: bad presence byte ${present}`);
    if (offset + 4 > bytes.length) throw new KvCommandDecodeError(`${name}: truncated length`);
    const length = view.getUint32(offset);
    offset += 4;
    if (length > MAX_KV_FIELD_BYTES)
      throw new KvCommandDecodeError(`${name}: ${length} bytes exceeds the limit`);
    if (offset + length > bytes.length) throw new KvCommandDecodeError(`${name}: truncated`);
    const text = decodeText(bytes, offset, offset + length, name);
    offset += length;
    return text;
  };
  let command: KvCommand;
  switch (bytes[0]) {
    case OPCODE_PUT:
      command = { kind: 'put', key: readField('key', false)!, value: readField('value', false)! };
      break;
    case OPCODE_GET:
      command = { kind: 'get', key: readField('key', false)! };
      break;
    case OPCODE_CAS: {
      const key = readField('key', false)!;
      const expected = readField('expected', true);
      command = { kind: 'cas', key, expected, value: readField('value', false)! };
      break;
    }
    default:
      throw new KvCommandDecodeError(`unknown opcode ${bytes[0]}`);
  }
  if (offset !== bytes.length) throw new KvCommandDecodeError(`${bytes.length - offset} trailing bytes`);
  return command;
}

/** Longest text decoded through the ASCII fast path (short keys and values are the common case). */
const ASCII_FAST_PATH_MAX_CHARS = 256;

function encodeText(text: string): Uint8Array {
  if (text.length <= ASCII_FAST_PATH_MAX_CHARS) {
    const out = new Uint8Array(text.length);
    let ascii = true;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x80) {
        ascii = false;
        break;
      }
      out[index] = code;
    }
    if (ascii) return out;
  }
  return encoder.encode(text);
}

function decodeText(bytes: Uint8Array, start: number, end: number, name: string): string {
  if (end - start <= ASCII_FAST_PATH_MAX_CHARS) {
    let text = '';
    let index = start;
    for (; index < end; index++) {
      const byte = bytes[index]!;
      if (byte >= 0x80) break;
      text += String.fromCharCode(byte);
    }
    if (index === end) return text;
  }
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    throw new KvCommandDecodeError(`${name}: not UTF-8`);
  }
}
