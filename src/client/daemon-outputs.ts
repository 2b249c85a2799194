/**
 * A daemon's outputs as an async iterator that survives connection loss (resuming-stream.ts):
 * each stream starts at the output after the last one delivered. Without `follow` the node marks
 * the end it reached (`complete`), so a stream cut by a closing node is resumed, not taken for
 * the end.
 */
import type { DaemonOutput } from '../api/index.js';
import type { PbOutputsResponse } from '../protocol/index.js';
import { outputFromPb } from './convert-daemons.js';
import { daemonErrorFromGrpc } from './daemon-errors.js';
import { ResumingStream, type StreamSource } from './resuming-stream.js';
import type { ServiceTransport } from './service-transport.js';

function outputsSource(
  name: string,
  follow: boolean,
  member: number | undefined,
): StreamSource<PbOutputsResponse, DaemonOutput> {
  const memberIndex = member === undefined ? null : { index: member };
  return {
    open: (connection, sequence, metadata) =>
      connection.serverStream(
        'daemons',
        'Outputs',
        { name, from_sequence: sequence, follow, member: memberIndex },
        metadata,
      ),
    items: (response) => response.outputs.map(outputFromPb),
    positionAfter: (output) => output.sequence + 1,
    complete: (response) => response.complete,
    errorOf: (error, address) => daemonErrorFromGrpc(error, address, 'read'),
  };
}

export class DaemonOutputStream extends ResumingStream<PbOutputsResponse, DaemonOutput> {
  constructor(
    name: string,
    options: { readonly fromSequence: number; readonly follow: boolean; readonly member?: number },
    transport: ServiceTransport,
    signal?: AbortSignal,
  ) {
    super(outputsSource(name, options.follow, options.member), options.fromSequence, transport, signal);
  }

  /** Where the stream continues: one past the last output delivered. */
  get nextSequence(): number {
    return this.position;
  }
}
