/**
 * One node's client port: a gRPC channel shared by the five etcd services and MeshOS's Chains,
 * Daemons and Blobs services, and unary/stream helpers.
 */
import * as grpc from '@grpc/grpc-js';
import { MAX_RECEIVE_MESSAGE_BYTES } from './limits.js';
import type { ClientTlsOptions } from './options.js';
import {
  blobsClientConstructor,
  chainsClientConstructor,
  daemonsClientConstructor,
  etcdClientConstructors,
} from './proto.js';

/** Reconnect quickly after a node restarts; the retry loop does its own backoff between attempts. */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
} as const;

/** host:port from what a user or a member list gives (a URL or a bare address). */
export function normalizeEndpoint(text: string): string {
  const trimmed = text.trim();
  const withoutScheme = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return withoutScheme.replace(/\/+$/, '');
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

type StreamMethod = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientDuplexStream<unknown, unknown>;
type ClientStreamMethod = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientWritableStream<unknown>;
type ServerStreamMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

/** Plaintext, or TLS with the given CA (and client certificate, when given). */
export function channelCredentials(tls: ClientTlsOptions | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.caCertificatePem === undefined ? null : Buffer.from(tls.caCertificatePem),
    tls.privateKeyPem === undefined ? null : Buffer.from(tls.privateKeyPem),
    tls.certificatePem === undefined ? null : Buffer.from(tls.certificatePem),
  );
}

export type ServiceName =
  | 'kv'
  | 'watch'
  | 'lease'
  | 'cluster'
  | 'maintenance'
  | 'auth'
  | 'chains'
  | 'daemons'
  | 'blobs';

export class EndpointConnection {
  private readonly clients: Record<ServiceName, grpc.Client>;

  constructor(
    readonly address: string,
    interceptors: readonly grpc.Interceptor[],
    credentials: grpc.ChannelCredentials,
  ) {
    const constructors = etcdClientConstructors();
    const options: grpc.ClientOptions = { ...CHANNEL_OPTIONS, interceptors: [...interceptors] };
    const kv = new constructors.kv(address, credentials, options);
    const shared: grpc.ClientOptions = { ...options, channelOverride: kv.getChannel() };
    this.clients = {
      kv,
      watch: new constructors.watch(address, credentials, shared),
      lease: new constructors.lease(address, credentials, shared),
      cluster: new constructors.cluster(address, credentials, shared),
      maintenance: new constructors.maintenance(address, credentials, shared),
      auth: new constructors.auth(address, credentials, shared),
      chains: new (chainsClientConstructor())(address, credentials, shared),
      daemons: new (daemonsClientConstructor())(address, credentials, shared),
      blobs: new (blobsClientConstructor())(address, credentials, shared),
    };
  }

  unary<Response>(
    service: ServiceName,
    method: string,
    request: unknown,
    metadata: grpc.Metadata,
    deadline: Date,
  ): Promise<Response> {
    const client = this.clients[service];
    const call = (client as unknown as Record<string, UnaryMethod>)[method];
    if (call === undefined) throw new Error(`etcd proto: ${service} has no method ${method}`);
    return new Promise<Response>((resolve, reject) => {
      call.call(client, request, metadata, { deadline }, (error, response) => {
        if (error !== null) reject(error);
        else resolve(response as Response);
      });
    });
  }

  duplex(
    service: ServiceName,
    method: string,
    metadata: grpc.Metadata,
    deadline?: Date,
  ): grpc.ClientDuplexStream<unknown, unknown> {
    const client = this.clients[service];
    const call = (client as unknown as Record<string, StreamMethod>)[method];
    if (call === undefined) throw new Error(`etcd proto: ${service} has no method ${method}`);
    return call.call(client, metadata, deadline === undefined ? {} : { deadline });
  }

  /** A client-streaming call: write the requests, end it, and `answer` resolves with the one response. */
  clientStream<Response>(
    service: ServiceName,
    method: string,
    metadata: grpc.Metadata,
    deadline?: Date,
  ): { readonly stream: grpc.ClientWritableStream<unknown>; readonly answer: Promise<Response> } {
    const client = this.clients[service];
    const call = (client as unknown as Record<string, ClientStreamMethod>)[method];
    if (call === undefined) throw new Error(`etcd proto: ${service} has no method ${method}`);
    let stream: grpc.ClientWritableStream<unknown> | undefined;
    const answer = new Promise<Response>((resolve, reject) => {
      stream = call.call(client, metadata, deadline === undefined ? {} : { deadline }, (error, response) => {
        if (error !== null) reject(error);
        else resolve(response as Response);
      });
    });
    return { stream: stream as unknown as grpc.ClientWritableStream<unknown>, answer };
  }

  serverStream(
    service: ServiceName,
    method: string,
    request: unknown,
    metadata: grpc.Metadata,
    deadline?: Date,
  ): grpc.ClientReadableStream<unknown> {
    const client = this.clients[service];
    const call = (client as unknown as Record<string, ServerStreamMethod>)[method];
    if (call === undefined) throw new Error(`etcd proto: ${service} has no method ${method}`);
    return call.call(client, request, metadata, deadline === undefined ? {} : { deadline });
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.close();
  }
}
