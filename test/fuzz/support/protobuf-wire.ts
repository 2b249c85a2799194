/**
 * Protobuf wire bytes for a message type, made from its descriptor (the one proto-loader gives
 * every gRPC method's request): each field set or not, with values of its type (varints up to
 * ten bytes, so 64-bit and negative values too), nested messages a few levels deep. Valid for
 * the schema, so the bytes get past the deserializer into the service; the fuzzers also mutate them.
 */

import type { PackageDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

export interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
}

const MAX_NESTING = 3;

function varint(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

function lengthDelimited(tag: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(BigInt(tag)), ...varint(BigInt(body.length)), ...body]);
}

const int64Values = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.constantFrom(0n, -1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n),
);

/** Finds message types by their (possibly relative) names across the loaded packages. */
export class DescriptorIndex {
  private readonly byName = new Map<string, MessageDescriptor>();

  constructor(packages: readonly PackageDefinition[]) {
    for (const definition of packages) {
      for (const [fullName, entry] of Object.entries(definition)) {
        const described = entry as { format?: string; type?: MessageDescriptor };
        if (described.format === 'Protocol Buffer 3 DescriptorProto' && described.type !== undefined) {
          this.byName.set(fullName, described.type);
        }
      }
    }
  }

  find(typeName: string): MessageDescriptor | undefined {
    const name = typeName.replace(/^\./, '');
    const exact = this.byName.get(name);
    if (exact !== undefined) return exact;
    for (const [fullName, descriptor] of this.byName) if (fullName.endsWith(`.${name}`)) return descriptor;
    return undefined;
  }

  /** Encoded messages of `descriptor`. */
  messageBytes(descriptor: MessageDescriptor, depth = 0): fc.Arbitrary<Uint8Array> {
    const fields = descriptor.field.map((field) => this.fieldBytes(field, depth));
    if (fields.length === 0) return fc.constant(new Uint8Array(0));
    return fc.tuple(...fields.map((field) => fc.option(field, { nil: undefined, freq: 2 }))).map((parts) => {
      const present = parts.filter((part): part is Uint8Array => part !== undefined);
      const joined = new Uint8Array(present.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of present) {
        joined.set(part, offset);
        offset += part.length;
      }
      return joined;
    });
  }

  private fieldBytes(field: FieldDescriptor, depth: number): fc.Arbitrary<Uint8Array> {
    const one = this.valueBytes(field, depth);
    if (field.label !== 'LABEL_REPEATED') return one;
    return fc
      .array(one, { maxLength: 3 })
      .map((values) => Uint8Array.from(values.flatMap((value) => [...value])));
  }

  private valueBytes(field: FieldDescriptor, depth: number): fc.Arbitrary<Uint8Array> {
    const tag = (wireType: number): number => field.number * 8 + wireType;
    const asVarint = (values: fc.Arbitrary<bigint>) =>
      values.map((value) => Uint8Array.from([...varint(BigInt(tag(0))), ...varint(value)]));
    switch (field.type) {
      case 'TYPE_BOOL':
        return asVarint(fc.bigInt({ min: 0n, max: 2n }));
      case 'TYPE_ENUM':
        return asVarint(fc.bigInt({ min: -1n, max: 12n }));
      case 'TYPE_INT64':
      case 'TYPE_UINT64':
      case 'TYPE_INT32':
      case 'TYPE_UINT32':
      case 'TYPE_SINT64':
      case 'TYPE_SINT32':
        return asVarint(int64Values);
      case 'TYPE_FIXED64':
      case 'TYPE_SFIXED64':
      case 'TYPE_DOUBLE':
        return fc
          .uint8Array({ minLength: 8, maxLength: 8 })
          .map((bytes) => Uint8Array.from([...varint(BigInt(tag(1))), ...bytes]));
      case 'TYPE_FIXED32':
      case 'TYPE_SFIXED32':
      case 'TYPE_FLOAT':
        return fc
          .uint8Array({ minLength: 4, maxLength: 4 })
          .map((bytes) => Uint8Array.from([...varint(BigInt(tag(5))), ...bytes]));
      case 'TYPE_STRING':
        return fc
          .oneof(fc.string({ maxLength: 24 }), fc.constantFrom('', '/', 'a', '..', 'x'.repeat(300)))
          .map((text) => lengthDelimited(tag(2), new TextEncoder().encode(text)));
      case 'TYPE_MESSAGE': {
        const nested = this.find(field.typeName);
        if (nested === undefined || depth >= MAX_NESTING)
          return fc.constant(lengthDelimited(tag(2), new Uint8Array(0)));
        return this.messageBytes(nested, depth + 1).map((body) => lengthDelimited(tag(2), body));
      }
      default:
        return fc.uint8Array({ maxLength: 32 }).map((bytes) => lengthDelimited(tag(2), bytes));
    }
  }
}
