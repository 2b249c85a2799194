/**
 * Builders for MeshOS's own gRPC services, written as protobuf JSON descriptors (the form
 * protobufjs reads) rather than .proto files, so the built package needs no data files. Each
 * service's messages convert as etcd's do (grpc-services.ts: 64-bit integers as decimal strings,
 * enums as their names, defaults filled in; an absent message field is null).
 */
import type { ProtoDescriptor } from './grpc-services.js';

interface Field {
  readonly type: string;
  readonly id: number;
  readonly rule?: 'repeated';
}

export type Descriptor = ProtoDescriptor;

export function message(fields: Record<string, Field>): { fields: Record<string, Field> } {
  return { fields };
}

/** A field of any type: a scalar's name, or a message or enum of the same package. */
export const field = (type: string, id: number): Field => ({ type, id });
export const string = (id: number): Field => field('string', id);
export const uint64 = (id: number): Field => field('uint64', id);
export const uint32 = (id: number): Field => field('uint32', id);
export const bytes = (id: number): Field => field('bytes', id);
export const bool = (id: number): Field => field('bool', id);
export const repeated = (type: string, id: number): Field => ({ type, id, rule: 'repeated' });

/** A method; `responseStream` and `requestStream` make it a server, client or bidirectional stream. */
export const rpc = (
  requestType: string,
  responseType: string,
  responseStream = false,
  requestStream = false,
) => ({
  requestType,
  responseType,
  responseStream,
  ...(requestStream ? { requestStream } : {}),
  comment: '',
});

/** The acks policies as an enum, shared by every service that takes one. */
export const ACKS_ENUM = { values: { ACKS_UNSPECIFIED: 0, ACKS_ONE: 1, ACKS_QUORUM: 2, ACKS_ALL: 3 } };

/** A descriptor whose types all live in the `meshos.v1` package. */
export function meshosV1(types: Record<string, unknown>): Descriptor {
  return { nested: { meshos: { nested: { v1: { nested: types } } } } } as Descriptor;
}
