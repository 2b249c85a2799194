import { decodeKvCommand, encodeKvCommand, type KvCommand } from '../kv/index.js';
import { isNodeId, MeshError, type NodeId } from '../lib/index.js';
import { type MemberRecord, readMemberRecord } from './member-directory.js';
import { decodeSessionEnvelope, encodeSessionEnvelope } from './session-table.js';

/**
 * What a normal log entry of a MeshOS node holds: a key-value command (with the client's
 * session when it has one, so a retried request applies once) or a member-directory change.
 * The first byte says which; the numbers are part of the log format.
 */
export type NodeCommand =
  | {
      readonly type: 'kv';
      readonly command: KvCommand;
      readonly session?: { clientId: string; sequence: number };
    }
  | { readonly type: 'setMember'; readonly member: MemberRecord }
  | { readonly type: 'removeMember'; readonly id: NodeId };

const TAG_KV = 1;
const TAG_KV_WITH_SESSION = 2;
const TAG_MEMBER = 3;

export class NodeCommandDecodeError extends MeshError {
  constructor(reason: string) {
    super('BAD_COMMAND', `cannot decode a node command: ${reason}`);
  }
}

export function encodeNodeCommand(command: NodeCommand): Uint8Array {
  switch (command.type) {
    case 'kv': {
      const body = encodeKvCommand(command.command);
      if (command.session === undefined) return tagged(TAG_KV, body);
      return tagged(TAG_KV_WITH_SESSION, encodeSessionEnvelope({ ...command.session, payload: body }));
    }
    case 'setMember':
    case 'removeMember':
      return tagged(TAG_MEMBER, new TextEncoder().encode(JSON.stringify(command)));
  }
}

export function decodeNodeCommand(bytes: Uint8Array): NodeCommand {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case TAG_KV:
      return { type: 'kv', command: decodeKvCommand(body) };
    case TAG_KV_WITH_SESSION: {
      const envelope = decodeSessionEnvelope(body);
      return {
        type: 'kv',
        command: decodeKvCommand(envelope.payload),
        session: { clientId: envelope.clientId, sequence: envelope.sequence },
      };
    }
    case TAG_MEMBER:
      return decodeMemberChange(body);
    default:
      throw new NodeCommandDecodeError(`unknown tag ${bytes[0]}`);
  }
}

function decodeMemberChange(body: Uint8Array): NodeCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new NodeCommandDecodeError('member change is not JSON');
  }
  const change = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (change.type !== 'setMember' && change.type !== 'removeMember') {
    throw new NodeCommandDecodeError('bad member change');
  }
  const member = change.type === 'setMember' ? change.member : undefined;
  const id = change.type === 'setMember' ? (member as { id?: unknown } | null | undefined)?.id : change.id;
  if (!isNodeId(id)) throw new NodeCommandDecodeError(`member change names ${String(id)}, not a node id`);
  if (change.type === 'removeMember') return { type: 'removeMember', id };
  const record = readMemberRecord(member);
  if (record === undefined) throw new NodeCommandDecodeError('member change holds no valid member record');
  return { type: 'setMember', member: record };
}

/** `body` behind one tag byte. */
export function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
}
