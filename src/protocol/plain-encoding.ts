/**
 * Whether protobufjs's `encode` may take a plain object of a message type as it is, skipping
 * `fromObject`. `fromObject` builds a message instance per (nested) message and a Long per
 * 64-bit field before `encode` reads them back; `encode` itself takes plain objects, numbers or
 * `{ low, high }` for 64-bit fields, decimal strings too (through a Long) and Buffers for bytes.
 * What it cannot take is an enum given by name, which only `fromObject` turns into its number:
 * a type with an enum field anywhere inside it keeps `fromObject`.
 */
import protobuf from 'protobufjs/light.js';

export function encodesPlainObjects(type: protobuf.Type, visiting = new Set<protobuf.Type>()): boolean {
  if (visiting.has(type)) return true;
  visiting.add(type);
  for (const field of type.fieldsArray) {
    const fieldType = field.resolvedType;
    if (fieldType instanceof protobuf.Enum) return false;
    if (fieldType instanceof protobuf.Type && !encodesPlainObjects(fieldType, visiting)) return false;
  }
  return true;
}
