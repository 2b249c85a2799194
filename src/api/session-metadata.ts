import { MeshError } from '../lib/index.js';
import type { RequestMetadata } from './grpc-server/index.js';
import type { ClientSession } from './kv-backend.js';

/** gRPC metadata a MeshOS client sends with each write, so a retry applies at most once. */
export const CLIENT_ID_HEADER = 'meshos-client-id';
export const SEQUENCE_HEADER = 'meshos-sequence';
const MAX_CLIENT_ID_CHARACTERS = 128;

export class BadSessionError extends MeshError {
  constructor(reason: string) {
    super('BAD_SESSION', `invalid client session metadata: ${reason}`);
  }
}

/** The session a request carries, or undefined for clients that send none (etcdctl, etcd3). */
export function sessionFromMetadata(metadata: RequestMetadata | undefined): ClientSession | undefined {
  if (metadata === undefined) return undefined;
  const [clientId] = metadata.get(CLIENT_ID_HEADER);
  const [sequenceText] = metadata.get(SEQUENCE_HEADER);
  if (clientId === undefined && sequenceText === undefined) return undefined;
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_CLIENT_ID_CHARACTERS) {
    throw new BadSessionError(`${CLIENT_ID_HEADER} must be 1 to ${MAX_CLIENT_ID_CHARACTERS} characters`);
  }
  const sequence = Number(sequenceText);
  if (!Number.isSafeInteger(sequence) || sequence <= 0) {
    throw new BadSessionError(`${SEQUENCE_HEADER} must be a positive integer`);
  }
  return { clientId, sequence };
}
