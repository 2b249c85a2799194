/**
 * The methods a server serves, by path, from grpc-js service definitions (path, the streaming
 * shape, the protobuf (de)serializers) and their implementations, as `Server.addService` takes
 * them. A method the definition names but the implementation lacks is not served (its calls get
 * UNIMPLEMENTED, as from grpc-js).
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';

export type CallKind = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

/** The callback of unary and client-streaming handlers: grpc-js's `sendUnaryData`. */
export type UnaryCallback = (error: unknown, value?: unknown) => void;

export interface ServedMethod {
  readonly path: string;
  readonly kind: CallKind;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  /** The implementation, called with the call object (and the callback for unary and client streams). */
  readonly handler: (call: unknown, callback: UnaryCallback) => void;
}

function kindOf(requestStream: boolean, responseStream: boolean): CallKind {
  if (requestStream) return responseStream ? 'bidi' : 'clientStream';
  return responseStream ? 'serverStream' : 'unary';
}

/** Adds a service's implemented methods to `into`; throws on a path served twice. */
export function addServedMethods(
  into: Map<string, ServedMethod>,
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): void {
  for (const [name, shape] of Object.entries(definition)) {
    const handler = (implementation[name] ?? implementation[shape.originalName ?? '']) as
      | ServedMethod['handler']
      | undefined;
    if (handler === undefined) continue;
    if (into.has(shape.path)) throw new Error(`gRPC method ${shape.path} is served twice`);
    into.set(shape.path, {
      path: shape.path,
      kind: kindOf(shape.requestStream, shape.responseStream),
      deserialize: shape.requestDeserialize as ServedMethod['deserialize'],
      serialize: shape.responseSerialize as ServedMethod['serialize'],
      handler,
    });
  }
}

/** Message size limits of every call (bytes of the protobuf message, without its prefix). */
export interface CallLimits {
  readonly receiveMessageBytes: number;
  readonly sendMessageBytes: number;
}
