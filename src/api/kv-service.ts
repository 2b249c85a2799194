/** The KV service: Range, Put, DeleteRange, Txn, Compact. */
import type * as grpc from '@grpc/grpc-js';
import type { KvCommand, KvResult } from '../kv/index.js';
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
import type { KvBackend } from '../server/index.js';
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
import { sessionFromMetadata } from './session-metadata.js';

type Expected<Type extends KvResult['type']> = Extract<KvResult, { type: Type }>;

/** Runs a command; an error result becomes a rejection with its typed error. */
async function run<Type extends KvResult['type']>(
  backend: KvBackend,
  command: KvCommand,
  type: Type,
  metadata?: grpc.Metadata,
): Promise<Expected<Type>> {
  const result = await backend.execute(command, sessionFromMetadata(metadata));
  if (result.type === 'error') throw result.error;
  if (result.type !== type) throw new Error(`backend answered ${result.type} to a ${command.type} command`);
  return result as Expected<Type>;
}

export function kvService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const header: HeaderAt = (revision) => responseHeader(backend, revision);
  return {
    Range: unary('Range', logger, async (request: PbRangeRequest) =>
      rangeResponseToPb(await backend.range(rangeRequestFromPb(request)), header),
    ),
    Put: unary('Put', logger, async (request: PbPutRequest, metadata) =>
      putResponseToPb(await run(backend, putRequestFromPb(request), 'put', metadata), header),
    ),
    DeleteRange: unary('DeleteRange', logger, async (request: PbDeleteRangeRequest, metadata) =>
      deleteRangeResponseToPb(
        await run(backend, deleteRangeRequestFromPb(request), 'deleteRange', metadata),
        header,
      ),
    ),
    Txn: unary('Txn', logger, async (request: PbTxnRequest, metadata) =>
      txnResponseToPb(await run(backend, txnRequestFromPb(request), 'txn', metadata), header),
    ),
    Compact: unary(
      'Compact',
      logger,
      async (request: PbCompactionRequest, metadata): Promise<{ header: PbResponseHeader<Int64Out> }> => {
        const result = await run(backend, compactRequestFromPb(request), 'compact', metadata);
        return { header: header(result.header.revision) };
      },
    ),
  };
}
