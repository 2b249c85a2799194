/**
 * `meshos.v1.Chains` over a `ChainsBackend`: Create, Delete, Append, AppendStream (appends
 * pipelined on one call, chain-append-stream.ts), Read, Subscribe (a server stream from an
 * offset), Status, List. Failures carry the status from the chains error table and the
 * `MeshError` code in the trailers (service-error-map.ts); an AppendStream's per-append failures
 * carry the same in its answer.
 */
import type * as grpc from '@grpc/grpc-js';
import { isMeshError, type Logger } from '../lib/index.js';
import {
  CHAIN_ERRORS,
  type Int64Out,
  type PbAppendFailure,
  type PbAppendRequest,
  type PbChainName,
  type PbCreateChainRequest,
  type PbReadRequest,
  type PbSubscribeRequest,
  type PbSubscribeResponse,
} from '../protocol/index.js';
import { type AppendStreamCall, AppendStreamSession } from './chain-append-stream.js';
import type { ChainRecord, ChainsBackend } from './chains-backend.js';
import type { ClientPortService } from './client-port-server.js';
import {
  appendRequestFromPb,
  appendResultToPb,
  chainNameFromPb,
  chainRecordToPb,
  chainStatusToPb,
  chainSummaryToPb,
  createInputFromPb,
  readRequestFromPb,
  readResultToPb,
  subscribeRequestFromPb,
} from './convert-chains.js';
import { serveStream, unaryWithTimeout, writable } from './grpc-call.js';
import {
  DEFAULT_CHAIN_APPEND_TIMEOUT_MS,
  MAX_SUBSCRIBE_MESSAGE_BYTES,
  MAX_SUBSCRIBE_MESSAGE_RECORDS,
  MAX_SUBSCRIBE_UNSENT_BYTES,
} from './limits.js';
import { type MeshAccessCheck, OPEN_MESH_ACCESS } from './mesh-access.js';
import { chainsServiceDefinition } from './proto.js';
import { loggedServiceFailure, serviceErrorOf } from './service-error-map.js';

type SubscribeCall = grpc.ServerWritableStream<PbSubscribeRequest, PbSubscribeResponse<Int64Out>>;

const CHAINS_LOG_LABEL = 'chains api';
const toChainServiceError = serviceErrorOf(CHAIN_ERRORS, CHAINS_LOG_LABEL);

/** `meshos.v1.Chains` on a client port; closing it ends every subscription (clients resume elsewhere). */
export interface ChainsPortService extends ClientPortService {
  /** Subscriptions open now. */
  readonly subscriptions: number;
  /** Append streams open now. */
  readonly appendStreams: number;
}

export function chainsPortService(
  backend: ChainsBackend,
  logger: Logger,
  access: MeshAccessCheck = OPEN_MESH_ACCESS,
): ChainsPortService {
  /** Each open subscription's controller, aborted by the server when it closes. */
  const subscriptions = new Set<AbortController>();
  const chainsUnary = unaryWithTimeout(logger, toChainServiceError);
  const appendStreams = new Set<AppendStreamSession>();
  const appendFailureOf = (error: unknown): PbAppendFailure => {
    const failure = loggedServiceFailure(CHAIN_ERRORS, CHAINS_LOG_LABEL, error, logger, 'AppendStream');
    return {
      code: failure.meshCode ?? '',
      message: failure.message,
      details_json: JSON.stringify(isMeshError(error) ? error.details : {}),
      status: failure.code,
    };
  };

  return {
    definition: chainsServiceDefinition(),
    implementation: {
      Create: chainsUnary('Create', async (request: PbCreateChainRequest, _timeoutMs, metadata) => {
        const input = createInputFromPb(request);
        await access(metadata, 'write', 'chains', input.name, 'chains Create');
        return chainStatusToPb(await backend.create(input));
      }),
      Delete: chainsUnary('Delete', async (request: PbChainName, _timeoutMs, metadata) => {
        const name = chainNameFromPb(request);
        await access(metadata, 'write', 'chains', name, 'chains Delete');
        await backend.delete(name);
        return {};
      }),
      Append: chainsUnary('Append', async (request: PbAppendRequest, timeoutMs, metadata) => {
        const { name, payloads } = appendRequestFromPb(request);
        await access(metadata, 'write', 'chains', name, 'chains Append');
        const budgetMs = timeoutMs ?? DEFAULT_CHAIN_APPEND_TIMEOUT_MS;
        return appendResultToPb(await backend.append(name, payloads, Math.max(0, budgetMs)));
      }),
      AppendStream: (call: AppendStreamCall) => {
        const session: AppendStreamSession = new AppendStreamSession(call, {
          backend,
          failureOf: appendFailureOf,
          protocolError: (error) => toChainServiceError(error, logger, 'AppendStream'),
          onEnd: () => appendStreams.delete(session),
          authorize: (name) => access(call.metadata, 'write', 'chains', name, 'chains AppendStream'),
        });
        appendStreams.add(session);
      },
      Read: chainsUnary('Read', async (request: PbReadRequest, _timeoutMs, metadata) => {
        const { name, fromOffset, limit, maxBytes } = readRequestFromPb(request);
        await access(metadata, 'read', 'chains', name, 'chains Read');
        return readResultToPb(await backend.read(name, fromOffset, limit, maxBytes));
      }),
      Subscribe: (call: SubscribeCall) =>
        serveStream(
          call,
          subscriptions,
          { logger, method: 'Subscribe', errorOf: toChainServiceError },
          async (signal) => {
            await access(
              call.metadata,
              'read',
              'chains',
              subscribeRequestFromPb(call.request).name,
              'chains Subscribe',
            );
            return streamRecords(call, backend, signal);
          },
        ),
      Status: chainsUnary('Status', async (request: PbChainName, _timeoutMs, metadata) => {
        const name = chainNameFromPb(request);
        await access(metadata, 'read', 'chains', name, 'chains Status');
        return chainStatusToPb(await backend.status(name));
      }),
      List: chainsUnary('List', async (_request, _timeoutMs, metadata) => {
        await access(metadata, 'read', 'chains', undefined, 'chains List');
        return { chains: (await backend.list()).map(chainSummaryToPb) };
      }),
    },
    get subscriptions() {
      return subscriptions.size;
    },
    get appendStreams() {
      return appendStreams.size;
    },
    close(): void {
      for (const controller of [...subscriptions]) controller.abort();
      for (const session of [...appendStreams]) session.close();
    },
  };
}

/**
 * Writes the backend's records to the call as they were read, each read's records in one
 * message (split by `MAX_SUBSCRIBE_MESSAGE_RECORDS` and `MAX_SUBSCRIBE_MESSAGE_BYTES`), waiting
 * while the call holds more than `MAX_SUBSCRIBE_UNSENT_BYTES` not yet sent (or its buffer is
 * full): a client that reads slowly holds the backend's iterator back, whose bounded buffer
 * then ends the subscription with CHAIN_SUBSCRIBER_TOO_SLOW.
 */
async function streamRecords(
  call: SubscribeCall,
  backend: ChainsBackend,
  signal: AbortSignal,
): Promise<void> {
  const { name, fromOffset } = subscribeRequestFromPb(call.request);
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  let unsentBytes = 0;
  let sent: (() => void) | undefined;
  for await (const batch of backend.subscribe(name, fromOffset, signal).batches()) {
    for (const message of subscribeMessages(batch)) {
      if (signal.aborted) return;
      const bytes = payloadBytes(message);
      unsentBytes += bytes;
      const accepted = call.write({ records: message.map(chainRecordToPb) }, () => {
        unsentBytes -= bytes;
        sent?.();
      });
      if (!accepted) await writable(call, aborted);
      while (unsentBytes > MAX_SUBSCRIBE_UNSENT_BYTES && !signal.aborted) {
        await Promise.race([new Promise<void>((resolve) => (sent = resolve)), aborted]);
      }
    }
  }
}

function payloadBytes(records: readonly ChainRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.payload.byteLength;
  return bytes;
}

/** `records` cut into messages within the Subscribe message budget, in order, none empty. */
export function subscribeMessages(records: readonly ChainRecord[]): ChainRecord[][] {
  const messages: ChainRecord[][] = [];
  let current: ChainRecord[] = [];
  let currentBytes = 0;
  for (const record of records) {
    const full =
      current.length >= MAX_SUBSCRIBE_MESSAGE_RECORDS ||
      currentBytes + record.payload.byteLength > MAX_SUBSCRIBE_MESSAGE_BYTES;
    if (full && current.length > 0) {
      messages.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(record);
    currentBytes += record.payload.byteLength;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}
