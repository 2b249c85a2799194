import type { NodeId } from '../raft/index.js';
import type { KvCommand } from './kv/commands.js';

/** A client operation sent to one node. Retries reuse `clientId` and `sequence`. */
export interface ClientRequest {
  readonly clientId: string;
  readonly sequence: number;
  /** Unique per attempt: names the ReadIndex request of a get. */
  readonly attemptId: string;
  /** The attempt's number within this operation (1 for the first try). */
  readonly attempt: number;
  readonly command: KvCommand;
}

/** A node's answer. `retry` means this node will not complete it (try elsewhere). */
export type ClientResponse =
  | { readonly kind: 'ok'; readonly sequence: number; readonly result: Uint8Array; readonly index: number }
  | { readonly kind: 'not-leader'; readonly sequence: number; readonly leaderId: NodeId | 0 }
  | { readonly kind: 'retry'; readonly sequence: number; readonly reason: string };
