/**
 * Minimal `meshos.v1.Daemons` calls for the multi-process daemons tests: one endpoint, a deadline,
 * no retries (a test records exactly what each call answered). A failed call rejects with a
 * `RawDaemonsError` carrying the `MeshError` code from the trailers (or none: transport failure).
 */
import * as grpc from '@grpc/grpc-js';
import { daemonsServiceDefinition } from '../../src/api/proto.js';
import { ERROR_CODE_TRAILER } from '../../src/protocol/error-trailers.js';

export class RawDaemonsError extends Error {
  constructor(
    readonly code: string | undefined,
    readonly grpcCode: number,
    message: string,
  ) {
    super(`${code ?? `grpc ${grpcCode}`}: ${message}`);
  }
}

export interface RawMemberStatus {
  readonly index: number;
  readonly node: number;
  readonly role: string;
  readonly syncedThrough: number;
  readonly healthy: boolean;
}

export interface RawDaemonStatus {
  readonly epoch: number;
  readonly members: readonly RawMemberStatus[];
  readonly inboundThrough: number;
}

export interface RawSendResult {
  readonly epoch: number;
  readonly inboundOffset: number;
  readonly memberIndex: number;
  readonly duplicate: boolean;
  readonly outputs: readonly string[];
}

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

export class RawDaemonsClient {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    const Constructor = grpc.makeGenericClientConstructor(daemonsServiceDefinition(), 'Daemons');
    this.client = new Constructor(endpoint, grpc.credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, request: object, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const invoke = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
      invoke(
        request,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + timeoutMs) },
        (error, response) => {
          if (error === null) resolve(response as T);
          else reject(rawError(error));
        },
      );
    });
  }

  async deploy(
    name: string,
    kind: string,
    group: 'GROUP_SINGLE' | 'GROUP_STANDBY' | 'GROUP_REPLICA' | 'GROUP_FORK',
    members: number,
    timeoutMs: number,
    forkOf?: { parent: string; inboundOffset: number },
  ): Promise<RawDaemonStatus> {
    const fork =
      forkOf === undefined
        ? {}
        : { fork_of: { parent: forkOf.parent, inbound_offset: { offset: String(forkOf.inboundOffset) } } };
    return statusOf(await this.call('Deploy', { name, kind, group, members, ...fork }, timeoutMs));
  }

  async status(name: string, timeoutMs: number): Promise<RawDaemonStatus> {
    return statusOf(await this.call('Status', { name }, timeoutMs));
  }

  async send(
    name: string,
    payload: string,
    timeoutMs: number,
    identity?: { clientId: string; sequence: number },
    key?: string,
  ): Promise<RawSendResult> {
    const response = await this.call<{
      epoch: string;
      inbound_offset: string;
      member_index: number;
      duplicate: boolean;
      outputs: Buffer[];
    }>(
      'Send',
      {
        name,
        payload: Buffer.from(payload),
        ...(key === undefined ? {} : { key }),
        ...(identity === undefined
          ? {}
          : { client_id: identity.clientId, sequence: String(identity.sequence) }),
      },
      timeoutMs,
    );
    return {
      epoch: Number(response.epoch),
      inboundOffset: Number(response.inbound_offset),
      memberIndex: response.member_index,
      duplicate: response.duplicate,
      outputs: response.outputs.map((output) => output.toString('utf8')),
    };
  }

  async state(
    name: string,
    member: number | undefined,
    timeoutMs: number,
  ): Promise<{ memberIndex: number; appliedThrough: number; state: Uint8Array }> {
    const response = await this.call<{ member_index: number; applied_through: string; state: Buffer }>(
      'State',
      { name, ...(member === undefined ? {} : { member: { index: member } }) },
      timeoutMs,
    );
    return {
      memberIndex: response.member_index,
      appliedThrough: Number(response.applied_through),
      state: new Uint8Array(response.state),
    };
  }

  /** Every output up to the current end (`follow` off), in order. */
  outputs(
    name: string,
    timeoutMs: number,
    member?: number,
  ): Promise<Array<{ sequence: number; inboundOffset: number; payload: string }>> {
    return new Promise((resolve, reject) => {
      const outputs: Array<{ sequence: number; inboundOffset: number; payload: string }> = [];
      const open = (
        this.client as unknown as Record<
          string,
          (request: object, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>
        >
      ).Outputs!.bind(this.client);
      const stream = open(
        {
          name,
          from_sequence: '0',
          follow: false,
          ...(member === undefined ? {} : { member: { index: member } }),
        },
        { deadline: new Date(Date.now() + timeoutMs) },
      );
      stream.on(
        'data',
        (message: { outputs: Array<{ sequence: string; inbound_offset: string; payload: Buffer }> }) => {
          for (const output of message.outputs)
            outputs.push({
              sequence: Number(output.sequence),
              inboundOffset: Number(output.inbound_offset),
              payload: output.payload.toString('utf8'),
            });
        },
      );
      stream.on('error', (error: grpc.ServiceError) => reject(rawError(error)));
      stream.on('end', () => resolve(outputs));
    });
  }
}

function rawError(error: grpc.ServiceError): RawDaemonsError {
  const code = error.metadata?.get(ERROR_CODE_TRAILER)[0];
  return new RawDaemonsError(code === undefined ? undefined : String(code), error.code, error.details);
}

function statusOf(response: unknown): RawDaemonStatus {
  const status = response as {
    epoch: string;
    inbound_through: string;
    members: Array<{ index: number; node: string; role: string; synced_through: string; healthy: boolean }>;
  };
  return {
    epoch: Number(status.epoch),
    inboundThrough: Number(status.inbound_through),
    members: status.members.map((member) => ({
      index: member.index,
      node: Number(member.node),
      role: member.role,
      syncedThrough: Number(member.synced_through),
      healthy: member.healthy,
    })),
  };
}
