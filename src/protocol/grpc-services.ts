/**
 * gRPC service definitions, as grpc-js's clients and the client port's server take them, made
 * from a protobuf JSON descriptor with protobufjs's reflection-only build. That build has no
 * .proto parser, and this skips what @grpc/proto-loader adds for gRPC reflection (each file
 * re-encoded as descriptor.proto bytes), which nothing here serves: loading etcd's services so
 * costs a client command a fraction of what parsing rpc.proto did. Messages convert exactly as
 * proto-loader converts them (test/unit/protocol/grpc-services.test.ts compares the two).
 */
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { encodesPlainObjects } from './plain-encoding.js';
import { withSharedDefaults } from './shared-defaults.js';

/** protobufjs's JSON descriptor form, as `Root.fromJSON` takes it. */
export type ProtoDescriptor = protobuf.INamespace;

/** Each service of a descriptor by its full name (`etcdserverpb.KV`), as `loadPackageDefinition` takes it. */
export type GrpcServices = Readonly<Record<string, grpc.ServiceDefinition>>;

/**
 * How a received message becomes an object, the same for the server and the client: 64-bit
 * integers as decimal strings (exact for every value), enums as their names (`Value`, `Equal`,
 * ... as spelled in the .proto), defaults filled in, and a discriminator naming the set member
 * of a oneof. Field names stay as written in the descriptor.
 */
export const MESSAGE_CONVERSION_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Encodes an object of `type`, made a message by `toMessage` (`fromObject` unless told otherwise). */
function serializer(
  type: protobuf.Type,
  toMessage: (value: object) => protobuf.Message = (value) => type.fromObject(value),
): (value: unknown) => Buffer {
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`Failed to serialize message: expected object with ${type.name} structure`);
    }
    // protobufjs writes into a Buffer when Node's Buffer exists, as it always does here.
    return type.encode(toMessage(value)).finish() as Buffer;
  };
}

/**
 * The same encoding for the responses a server sends, without `fromObject`'s message instances
 * and Longs for types without enums (`encodesPlainObjects`). Responses only: they are built by
 * MeshOS's own converters, which give every field its type; a client's requests keep
 * `fromObject`'s leniency.
 */
function responseSerializer(type: protobuf.Type): (value: unknown) => Buffer {
  if (!encodesPlainObjects(type)) return serializer(type);
  return serializer(type, (value) => value as protobuf.Message);
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), MESSAGE_CONVERSION_OPTIONS);
}

/**
 * The same conversion for the requests a server receives, without an empty Buffer per bytes field
 * and a Long per 64-bit field of every request (`withSharedDefaults`). Requests only: the
 * objects' keys come in another order, which a client's printed responses would show.
 */
function requestDeserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  const convert = withSharedDefaults(type, MESSAGE_CONVERSION_OPTIONS);
  return (bytes) => convert(type.decode(bytes));
}

/** `HashKV` -> `hashKv`: the alias grpc-js gives each method, spelled as proto-loader spells it. */
export function methodAlias(name: string): string {
  const words = name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [name];
  return words
    .map((word, index) =>
      index === 0 ? word.toLowerCase() : word.charAt(0).toUpperCase() + word.slice(1).toLowerCase(),
    )
    .join('');
}

function serviceDefinition(service: protobuf.Service, fullName: string): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (request === null || response === null) {
      throw new Error(`protobuf: ${fullName}.${method.name} names an unknown message type`);
    }
    methods[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: serializer(request),
      requestDeserialize: requestDeserializer(request),
      responseSerialize: responseSerializer(response),
      responseDeserialize: deserializer(response),
      originalName: methodAlias(method.name),
    };
  }
  return methods;
}

function collectServices(
  namespace: protobuf.NamespaceBase,
  into: Record<string, grpc.ServiceDefinition>,
): void {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Service) {
      const fullName = nested.fullName.replace(/^\./, '');
      into[fullName] = serviceDefinition(nested, fullName);
    } else if (nested instanceof protobuf.Namespace) {
      collectServices(nested, into);
    }
  }
}

/** Every service of `descriptor`; throws if a method names a type the descriptor lacks. */
export function grpcServices(descriptor: ProtoDescriptor): GrpcServices {
  const root = protobuf.Root.fromJSON(descriptor);
  root.resolveAll();
  const services: Record<string, grpc.ServiceDefinition> = {};
  collectServices(root, services);
  return services;
}

/** `grpcServices(descriptor)`, made on the first call and kept for the process. */
export function lazyServices(descriptor: ProtoDescriptor): () => GrpcServices {
  let loaded: GrpcServices | undefined;
  return () => {
    loaded ??= grpcServices(descriptor);
    return loaded;
  };
}
