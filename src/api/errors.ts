/**
 * Membership errors a backend rejects with. The Raft-backed node may throw these classes or any
 * `MeshError` with the same code; the gRPC layer maps by code only.
 */
import { MeshError } from '../lib/index.js';

export class MemberNotFoundError extends MeshError {
  constructor(id: number) {
    super('MEMBER_NOT_FOUND', `member ${id} not found`, { details: { id } });
  }
}

export class MemberExistsError extends MeshError {
  constructor(id: number) {
    super('MEMBER_EXISTS', `member ${id} already exists`, { details: { id } });
  }
}

export class PeerUrlExistsError extends MeshError {
  constructor(url: string) {
    super('PEER_URL_EXISTS', `peer URL ${url} is already used by a member`, { details: { url } });
  }
}

export class MemberBadUrlsError extends MeshError {
  constructor(problem: string) {
    super('MEMBER_BAD_URLS', `member URLs are invalid: ${problem}`, { details: { problem } });
  }
}

export class MemberNotLearnerError extends MeshError {
  constructor(id: number) {
    super('MEMBER_NOT_LEARNER', `member ${id} is not a learner`, { details: { id } });
  }
}
