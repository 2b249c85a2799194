/** The KV service: Range, Put, DeleteRange, Txn, Compact. */
import type * as grpc from '@grpc/grpc-js';
import type { DeleteRangeResponse, PutResponse, RangeResponse, TxnResponse } from '../kv/index.js';
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
import { asCaller } from './request-auth.js';
import { sessionFromMetadata } from './session-metadata.js';

export function kvService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const header: HeaderAt = (revision) => responseHeader(backend, revision);
  // The handlers chain the conversion onto the backend's promise instead of awaiting it: an
  // async frame per call would be one more object held for the call's life (under load, into
  // the old generation). The converters are made once.
  const rangeAnswer = (response: RangeResponse) => rangeResponseToPb(response, header);
  const putAnswer = (answer: PutResponse) => putResponseToPb(answer, header);
  const deleteRangeAnswer = (answer: DeleteRangeResponse) => deleteRangeResponseToPb(answer, header);
  const txnAnswer = (answer: TxnResponse) => txnResponseToPb(answer, header);
  return {
    Range: unary('Range', logger, (request: PbRangeRequest, metadata, options) =>
      backend
        .range(rangeRequestFromPb(request), asCaller(backend, metadata, options, 'Range'))
        .then(rangeAnswer),
    ),
    Put: unary('Put', logger, (request: PbPutRequest, metadata, options) =>
      backend
        .execute(
          putRequestFromPb(request),
          sessionFromMetadata(metadata),
          asCaller(backend, metadata, options, 'Put'),
        )
        .then(putAnswer),
    ),
    DeleteRange: unary('DeleteRange', logger, (request: PbDeleteRangeRequest, metadata, options) =>
      backend
        .execute(
          deleteRangeRequestFromPb(request),
          sessionFromMetadata(metadata),
          asCaller(backend, metadata, options, 'DeleteRange'),
        )
        .then(deleteRangeAnswer),
    ),
    Txn: unary('Txn', logger, (request: PbTxnRequest, metadata, options) =>
      backend
        .execute(
          txnRequestFromPb(request),
          sessionFromMetadata(metadata),
          asCaller(backend, metadata, options, 'Txn'),
        )
        .then(txnAnswer),
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
          asCaller(backend, metadata, options, 'Compact'),
        );
        return { header: header(result.header.revision) };
      },
    ),
  };
}
