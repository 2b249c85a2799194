/** The KV service: Range, Put, DeleteRange, Txn, Compact. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import type {
  Int64Out,
  PbCompactionRequest,
  PbDeleteRangeRequest,
  PbPutRequest,
  PbRangeRequest,
  PbResponseHeader,
  PbTxnRequest,
} from '../protocol/index.js';
import { responseHeader } from './convert-header.js';
import {
  compactRequestFromPb,
  deleteRangeRequestFromPb,
  deleteRangeResponseToPb,
  type HeaderAt,
  putRequestFromPb,
  putResponseToPb,
  rangeRequestFromPb,
  rangeResponseToPb,
  txnRequestFromPb,
  txnResponseToPb,
} from './convert-kv.js';
import { unary } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';
import { sessionFromMetadata } from './session-metadata.js';

export function kvService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const header: HeaderAt = (revision) => responseHeader(backend, revision);
  return {
    Range: unary('Range', logger, async (request: PbRangeRequest, _metadata, options) =>
      rangeResponseToPb(await backend.range(rangeRequestFromPb(request), options), header),
    ),
    Put: unary('Put', logger, async (request: PbPutRequest, metadata, options) =>
      putResponseToPb(
        await backend.execute(putRequestFromPb(request), sessionFromMetadata(metadata), options),
        header,
      ),
    ),
    DeleteRange: unary('DeleteRange', logger, async (request: PbDeleteRangeRequest, metadata, options) =>
      deleteRangeResponseToPb(
        await backend.execute(deleteRangeRequestFromPb(request), sessionFromMetadata(metadata), options),
        header,
      ),
    ),
    Txn: unary('Txn', logger, async (request: PbTxnRequest, metadata, options) =>
      txnResponseToPb(
        await backend.execute(txnRequestFromPb(request), sessionFromMetadata(metadata), options),
        header,
      ),
    ),
    Compact: unary(
      'Compact',
      logger,
      async (
        request: PbCompactionRequest,
        metadata,
        options,
      ): Promise<{ header: PbResponseHeader<Int64Out> }> => {
        const result = await backend.execute(
          compactRequestFromPb(request),
          sessionFromMetadata(metadata),
          options,
        );
        return { header: header(result.header.revision) };
      },
    ),
  };
}
