/**
 * A received message as an object, with the defaults of `MESSAGE_CONVERSION_OPTIONS`, made
 * without what protobufjs's `toObject` makes for them on every message: its `defaults: true`
 * sets every field's default before reading the message, present or not, so each bytes field
 * cost an empty Buffer (an ArrayBuffer of its own: two per Put request, the largest source of
 * ArrayBuffers on a member's put path) and each 64-bit field a Long turned into "0". Here the
 * message converts without defaults, and the absent fields are then set from a template made
 * once per type: the same values (tests compare with proto-loader's objects), where a bytes
 * default is one empty Buffer shared by every message (it holds no byte anyone could change)
 * and a repeated or map default is a new array or object each time.
 */
import protobuf from 'protobufjs/light.js';

type Filler = (object: Record<string, unknown>) => void;

interface NestedField {
  readonly name: string;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly filler: Filler;
}

/** Converts decoded messages of `type` as `toObject(message, options)` with `options.defaults`. */
export function withSharedDefaults(
  type: protobuf.Type,
  options: protobuf.IConversionOptions,
): (message: protobuf.Message) => unknown {
  const fill = fillerOf(type, options, new Map());
  const withoutDefaults: protobuf.IConversionOptions = { ...options, defaults: false };
  return (message) => {
    const object = type.toObject(message, withoutDefaults);
    fill(object);
    return object;
  };
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Sets the absent defaults of an object of `type` and of every message inside it. */
function fillerOf(
  type: protobuf.Type,
  options: protobuf.IConversionOptions,
  fillers: Map<protobuf.Type, Filler>,
): Filler {
  const known = fillers.get(type);
  if (known !== undefined) return known;
  const template = Object.entries(type.toObject(type.create(), { ...options, defaults: true }));
  const nested: NestedField[] = [];
  const filler: Filler = (object) => {
    for (const [key, value] of template) {
      if (object[key] !== undefined) continue;
      object[key] = Array.isArray(value) ? [] : isPlainObject(value) ? {} : value;
    }
    for (const field of nested) {
      const value = object[field.name];
      if (value === null || value === undefined) continue;
      if (field.repeated) for (const item of value as Record<string, unknown>[]) field.filler(item);
      else if (field.map)
        for (const item of Object.values(value)) field.filler(item as Record<string, unknown>);
      else field.filler(value as Record<string, unknown>);
    }
  };
  // Set before the fields are walked, so a type that contains itself finds its own filler.
  fillers.set(type, filler);
  for (const field of type.fieldsArray) {
    const fieldType = field.resolvedType;
    if (!(fieldType instanceof protobuf.Type)) continue;
    nested.push({
      name: field.name,
      repeated: field.repeated,
      map: field.map,
      filler: fillerOf(fieldType, options, fillers),
    });
  }
  return filler;
}
