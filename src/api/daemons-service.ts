/**
 * `meshos.v1.Daemons` over a `DaemonsBackend`: Deploy, List, Status, Send, State, Outputs (a
 * server stream from a sequence, in batches; `follow` keeps it open), Move, Remove. Failures carry
 * the status from the daemons error table and the `MeshError` code in the trailers.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import {
  DAEMON_ERRORS,
  type Int64Out,
  type PbDaemonName,
  type PbDeployRequest,
  type PbMoveRequest,
  type PbOutputsRequest,
  type PbOutputsResponse,
  type PbSendRequest,
  type PbStateRequest,
} from '../protocol/index.js';
import { batchedStream } from './batched-stream.js';
import type { ClientPortService } from './client-port-server.js';
import {
  daemonDefinitionToPb,
  daemonNameFromPb,
  daemonStatusToPb,
  deployInputFromPb,
  moveRequestFromPb,
  moveResultToPb,
  outputsRequestFromPb,
  outputToPb,
  sendRequestFromPb,
  sendResultToPb,
  stateRequestFromPb,
  stateResultToPb,
} from './convert-daemons.js';
import type { DaemonsBackend } from './daemons-backend.js';
import { serveStream, unaryWithTimeout, writable } from './grpc-call.js';
import {
  DAEMON_ANSWER_MARGIN_MS,
  DEFAULT_DAEMON_MOVE_TIMEOUT_MS,
  DEFAULT_DAEMON_SEND_TIMEOUT_MS,
  MAX_DAEMON_OUTPUT_MESSAGE_BYTES,
  MAX_DAEMON_OUTPUTS_PER_MESSAGE,
} from './limits.js';
import { type MeshAccessCheck, OPEN_MESH_ACCESS } from './mesh-access.js';
import { daemonsServiceDefinition } from './proto.js';
import { serviceErrorOf } from './service-error-map.js';

type OutputsCall = grpc.ServerWritableStream<PbOutputsRequest, PbOutputsResponse<Int64Out>>;

const toDaemonServiceError = serviceErrorOf(DAEMON_ERRORS, 'daemons api');

/** `meshos.v1.Daemons` on a client port; closing it ends every Outputs stream (clients resume elsewhere). */
export interface DaemonsPortService extends ClientPortService {
  /** Outputs streams open now. */
  readonly streams: number;
}

/** The backend's time for a call: the client's deadline less the answer margin, or `defaultMs`. */
function budgetMs(timeoutMs: number | undefined, defaultMs: number): number {
  return timeoutMs === undefined ? defaultMs : Math.max(0, timeoutMs - DAEMON_ANSWER_MARGIN_MS);
}

export function daemonsPortService(
  backend: DaemonsBackend,
  logger: Logger,
  access: MeshAccessCheck = OPEN_MESH_ACCESS,
): DaemonsPortService {
  /** Each open Outputs stream's controller, aborted when the call is cancelled or the port closes. */
  const streams = new Set<AbortController>();
  const daemonsUnary = unaryWithTimeout(logger, toDaemonServiceError);

  return {
    definition: daemonsServiceDefinition(),
    implementation: {
      Deploy: daemonsUnary('Deploy', async (request: PbDeployRequest, _timeoutMs, metadata) => {
        const input = deployInputFromPb(request);
        await access(metadata, 'write', 'daemons', input.name, 'daemons Deploy');
        return daemonStatusToPb(await backend.deploy(input));
      }),
      List: daemonsUnary('List', async (_request, _timeoutMs, metadata) => {
        await access(metadata, 'read', 'daemons', undefined, 'daemons List');
        return { daemons: (await backend.list()).map(daemonDefinitionToPb) };
      }),
      Status: daemonsUnary('Status', async (request: PbDaemonName, _timeoutMs, metadata) => {
        const name = daemonNameFromPb(request);
        await access(metadata, 'read', 'daemons', name, 'daemons Status');
        return daemonStatusToPb(await backend.status(name));
      }),
      Send: daemonsUnary('Send', async (request: PbSendRequest, timeoutMs, metadata) => {
        const { name, event } = sendRequestFromPb(request);
        await access(metadata, 'write', 'daemons', name, 'daemons Send');
        return sendResultToPb(
          await backend.send(name, event, budgetMs(timeoutMs, DEFAULT_DAEMON_SEND_TIMEOUT_MS)),
        );
      }),
      State: daemonsUnary('State', async (request: PbStateRequest, _timeoutMs, metadata) => {
        const { name, memberIndex } = stateRequestFromPb(request);
        await access(metadata, 'read', 'daemons', name, 'daemons State');
        return stateResultToPb(await backend.state(name, memberIndex));
      }),
      Outputs: (call: OutputsCall) =>
        serveStream(
          call,
          streams,
          { logger, method: 'Outputs', errorOf: toDaemonServiceError },
          async (signal) => {
            await access(
              call.metadata,
              'read',
              'daemons',
              outputsRequestFromPb(call.request).name,
              'daemons Outputs',
            );
            return writeOutputs(call, backend, signal);
          },
        ),
      Move: daemonsUnary('Move', async (request: PbMoveRequest, timeoutMs, metadata) => {
        const { name, to } = moveRequestFromPb(request);
        await access(metadata, 'write', 'daemons', name, 'daemons Move');
        return moveResultToPb(
          await backend.move(name, to, budgetMs(timeoutMs, DEFAULT_DAEMON_MOVE_TIMEOUT_MS)),
        );
      }),
      Remove: daemonsUnary('Remove', async (request: PbDaemonName, _timeoutMs, metadata) => {
        const name = daemonNameFromPb(request);
        await access(metadata, 'write', 'daemons', name, 'daemons Remove');
        await backend.remove(name);
        return {};
      }),
    },
    get streams() {
      return streams.size;
    },
    close(): void {
      for (const controller of [...streams]) controller.abort();
    },
  };
}

/**
 * Writes the backend's outputs to the call in batches, waiting whenever the call's buffer is
 * full: a client that reads slowly holds the backend's iterator back (through the bounded batch
 * buffer) rather than growing any queue. A stream without `follow` that reaches the end says so
 * in a last message (`complete`).
 */
async function writeOutputs(call: OutputsCall, backend: DaemonsBackend, signal: AbortSignal): Promise<void> {
  const { name, fromSequence, follow, memberIndex } = outputsRequestFromPb(call.request);
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const batches = batchedStream(
    backend.outputs(name, fromSequence, follow, signal, memberIndex),
    { maxItems: MAX_DAEMON_OUTPUTS_PER_MESSAGE, maxBytes: MAX_DAEMON_OUTPUT_MESSAGE_BYTES },
    (output) => output.payload.byteLength,
  );
  for await (const batch of batches) {
    if (signal.aborted) return;
    if (!call.write({ outputs: batch.map(outputToPb), complete: false })) await writable(call, aborted);
  }
  // Only an end the backend reached by itself is complete; a closing server's end is not.
  if (!follow && !signal.aborted) call.write({ outputs: [], complete: true });
}
