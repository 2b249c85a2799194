/** The Cluster service: list, add, remove and promote members. MemberUpdate is not served. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import type { Int64In, PbMember } from '../protocol/index.js';
import { memberToPb } from './convert-cluster.js';
import { responseHeader } from './convert-header.js';
import { uint64ToBigint } from './convert-numbers.js';
import { MemberNotFoundError } from './errors.js';
import { unary } from './grpc-call.js';
import type { KvBackend } from './kv-backend.js';

/** Member ids are numbers in the backend; an id no number can hold names no member. */
function memberId(value: Int64In): number {
  const id = uint64ToBigint('ID', value);
  const asNumber = Number(id);
  if (!Number.isSafeInteger(asNumber)) throw new MemberNotFoundError(asNumber);
  return asNumber;
}

export function clusterService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const members = async (): Promise<PbMember[]> => (await backend.members()).map(memberToPb);
  return {
    MemberList: unary('MemberList', logger, async () => ({
      header: responseHeader(backend),
      members: await members(),
    })),
    MemberAdd: unary('MemberAdd', logger, async (request: { peerURLs: string[]; isLearner: boolean }) => {
      const member = await backend.addMember(request.peerURLs, request.isLearner);
      return { header: responseHeader(backend), member: memberToPb(member), members: await members() };
    }),
    MemberRemove: unary('MemberRemove', logger, async (request: { ID: Int64In }) => {
      await backend.removeMember(memberId(request.ID));
      return { header: responseHeader(backend), members: await members() };
    }),
    MemberPromote: unary('MemberPromote', logger, async (request: { ID: Int64In }) => {
      await backend.promoteMember(memberId(request.ID));
      return { header: responseHeader(backend), members: await members() };
    }),
  };
}
