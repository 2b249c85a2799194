/**
 * A chain subscription as an async iterator that survives connection loss (resuming-stream.ts):
 * each stream starts at the record after the last one delivered. A failure that no retry can
 * mend (the chain is gone, the reader was too slow) ends it at once.
 */
import type { ChainRecord } from '../api/index.js';
import type { PbSubscribeResponse } from '../protocol/index.js';
import { chainErrorFromGrpc } from './chain-errors.js';
import { chainRecordFromPb } from './convert-chains.js';
import { ResumingStream, type StreamSource } from './resuming-stream.js';
import type { ServiceTransport } from './service-transport.js';

function subscribeSource(name: string): StreamSource<PbSubscribeResponse, ChainRecord> {
  return {
    open: (connection, offset, metadata) =>
      connection.serverStream('chains', 'Subscribe', { name, from_offset: offset }, metadata),
    items: (response) => response.records.map(chainRecordFromPb),
    positionAfter: (record) => record.offset + 1,
    // A subscription follows the chain until closed: the node ending it means it was cut.
    complete: () => false,
    errorOf: (error, address) => chainErrorFromGrpc(error, address, 'read'),
  };
}

export class ChainSubscription extends ResumingStream<PbSubscribeResponse, ChainRecord> {
  constructor(name: string, fromOffset: number, transport: ServiceTransport) {
    super(subscribeSource(name), fromOffset, transport);
  }

  /** Where the subscription continues: one past the last record delivered. */
  get nextOffset(): number {
    return this.position;
  }
}
