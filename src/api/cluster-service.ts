/**
 * The Cluster service: list, add, remove, promote and update members. Any member serves the
 * changes (the backend hands them to the leader); each answers the members after the change.
 * With auth on, changes are root's (as etcd's admin calls).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/index.js';
import type { Int64In, PbMember } from '../protocol/index.js';
import { memberId, memberToPb } from './convert-cluster.js';
import { responseHeader } from './convert-header.js';
import { unary } from './grpc-call.js';
import type { KvBackend, MemberChange } from './kv-backend.js';
import { requireRoot } from './request-auth.js';

export function clusterService(backend: KvBackend, logger: Logger): grpc.UntypedServiceImplementation {
  const members = async (): Promise<PbMember[]> => (await backend.members()).map(memberToPb);
  const changed = (change: MemberChange) => ({
    header: responseHeader(backend),
    members: change.members.map(memberToPb),
  });
  return {
    MemberList: unary('MemberList', logger, async () => ({
      header: responseHeader(backend),
      members: await members(),
    })),
    MemberAdd: unary(
      'MemberAdd',
      logger,
      async (request: { peerURLs: string[]; isLearner: boolean }, metadata) => {
        requireRoot(backend, metadata, 'MemberAdd');
        const change = await backend.addMember(request.peerURLs, request.isLearner);
        return {
          ...changed(change),
          ...(change.member === undefined ? {} : { member: memberToPb(change.member) }),
        };
      },
    ),
    MemberRemove: unary('MemberRemove', logger, async (request: { ID: Int64In }, metadata) => {
      requireRoot(backend, metadata, 'MemberRemove');
      return changed(await backend.removeMember(memberId(request.ID)));
    }),
    MemberUpdate: unary(
      'MemberUpdate',
      logger,
      async (request: { ID: Int64In; peerURLs: string[] }, metadata) => {
        requireRoot(backend, metadata, 'MemberUpdate');
        return changed(await backend.updateMember(memberId(request.ID), request.peerURLs));
      },
    ),
    MemberPromote: unary('MemberPromote', logger, async (request: { ID: Int64In }, metadata) => {
      requireRoot(backend, metadata, 'MemberPromote');
      return changed(await backend.promoteMember(memberId(request.ID)));
    }),
  };
}
