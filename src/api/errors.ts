/**
 * Membership errors a backend rejects with, and the check of member URLs. The Raft-backed node
 * may throw these classes or any `MeshError` with the same code; the gRPC layer maps by code only.
 */
import { MeshError, type NodeId } from '../lib/index.js';

export class MemberNotFoundError extends MeshError {
  /** `id` is the decimal text when the wire named an id no `NodeId` can hold. */
  constructor(id: NodeId | string) {
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

/** MoveLeader to a node that is not a voter (a learner, or no member at all). */
export class BadLeaderTransfereeError extends MeshError {
  constructor(target: number) {
    super('BAD_LEADER_TRANSFEREE', `${target} is not a voting member`, { details: { target } });
  }
}

/** Leadership did not reach its target in time; the cluster keeps whichever leader it has. */
export class LeaderTransferTimeoutError extends MeshError {
  constructor(target: number, timeoutMs: number) {
    super('LEADER_TRANSFER_TIMEOUT', `leadership did not move to ${target} within ${timeoutMs} ms`, {
      details: { target, timeoutMs },
    });
  }
}

/** Throws MEMBER_BAD_URLS unless every URL is `http(s)://host:port` and at least one is given. */
export function checkPeerUrls(peerUrls: readonly string[]): void {
  if (peerUrls.length === 0) throw new MemberBadUrlsError('no peer URL given');
  for (const text of peerUrls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new MemberBadUrlsError(`${text} is not a URL`);
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.port === '' ||
      url.pathname.length > 1
    ) {
      throw new MemberBadUrlsError(`${text} must be http(s)://host:port`);
    }
  }
}
