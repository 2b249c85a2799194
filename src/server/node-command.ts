import {
  type AuthCommand,
  decodeAuthCommand,
  encodeAuthCommand,
  MAX_AUTH_NAME_BYTES,
} from '../auth/index.js';
import { decodeKvCommand, encodeKvCommand, type KvCommand, writeKvCommand } from '../kv/index.js';
import { BinaryWriter, isNodeId, MeshError, type NodeId, pooledBytes } from '../lib/index.js';
import { type MemberRecord, readMemberRecord } from './member-directory.js';
import { decodeSessionEnvelope, encodeSessionEnvelope } from './session-table.js';

/**
 * What a normal log entry of a MeshOS node holds: a key-value command (with the client's
 * session when it has one, so a retried request applies once, and the user it acts as when
 * auth is on, checked as it applies), a member-directory change or an auth-store change.
 * The first byte says which; the numbers are part of the log format.
 */
export type NodeCommand =
  | {
      readonly type: 'kv';
      readonly command: KvCommand;
      readonly session?: { clientId: string; sequence: number };
      readonly user?: string;
    }
  | { readonly type: 'setMember'; readonly member: MemberRecord }
  | { readonly type: 'removeMember'; readonly id: NodeId }
  | { readonly type: 'auth'; readonly command: AuthCommand };

const TAG_KV = 1;
const TAG_KV_WITH_SESSION = 2;
const TAG_MEMBER = 3;
const TAG_AUTH = 4;
/** One byte of name length, the user's name (UTF-8), then a TAG_KV or TAG_KV_WITH_SESSION entry. */
const TAG_KV_AS_USER = 5;
/** As TAG_KV and TAG_KV_WITH_SESSION, from a client that named no user (user ''). */
const TAG_KV_ANONYMOUS = 6;
const TAG_KV_ANONYMOUS_WITH_SESSION = 7;

export class NodeCommandDecodeError extends MeshError {
  constructor(reason: string) {
    super('BAD_COMMAND', `cannot decode a node command: ${reason}`);
  }
}

/**
 * The command's bytes behind `headroomBytes` bytes left for the caller to fill (a forwarding
 * tag), so a forwarded proposal needs no copy of its own. Pooled memory (`pooledBytes`): a
 * proposal is sent or copied into the Raft log, never kept as it is.
 */
export function encodeNodeCommand(command: NodeCommand, headroomBytes = 0): Uint8Array {
  if (command.type === 'kv' && command.session === undefined && (command.user ?? '') === '')
    return encodeKvEntry(command.user === '' ? TAG_KV_ANONYMOUS : TAG_KV, command.command, headroomBytes);
  return withHeadroom(headroomBytes, encodeOtherCommand(command));
}

/** The common entry, a key-value command without session or user, written once. */
function encodeKvEntry(tag: number, command: KvCommand, headroomBytes: number): Uint8Array {
  return BinaryWriter.transient((writer) => {
    for (let index = 0; index < headroomBytes; index++) writer.byte(0);
    writer.byte(tag);
    writeKvCommand(writer, command);
  });
}

function withHeadroom(headroomBytes: number, body: Uint8Array): Uint8Array {
  if (headroomBytes === 0) return body;
  const out = pooledBytes(headroomBytes + body.byteLength);
  out.fill(0, 0, headroomBytes);
  out.set(body, headroomBytes);
  return out;
}

function encodeOtherCommand(command: NodeCommand): Uint8Array {
  switch (command.type) {
    case 'kv': {
      if (command.user !== undefined && command.user !== '') {
        const { user, ...withoutUser } = command;
        return encodeAsUser(user, withoutUser);
      }
      const anonymous = command.user === '';
      const body = encodeKvCommand(command.command);
      if (command.session === undefined) return tagged(anonymous ? TAG_KV_ANONYMOUS : TAG_KV, body);
      return tagged(
        anonymous ? TAG_KV_ANONYMOUS_WITH_SESSION : TAG_KV_WITH_SESSION,
        encodeSessionEnvelope({ ...command.session, payload: body }),
      );
    }
    case 'setMember':
    case 'removeMember':
      return tagged(TAG_MEMBER, new TextEncoder().encode(JSON.stringify(command)));
    case 'auth':
      return tagged(TAG_AUTH, encodeAuthCommand(command.command));
  }
}

function encodeAsUser(user: string, command: NodeCommand): Uint8Array {
  const name = new TextEncoder().encode(user);
  if (name.byteLength > MAX_AUTH_NAME_BYTES)
    throw new NodeCommandDecodeError(
      `user name of ${name.byteLength} bytes, more than ${MAX_AUTH_NAME_BYTES}`,
    );
  const inner = encodeNodeCommand(command);
  const out = pooledBytes(2 + name.byteLength + inner.byteLength);
  out[0] = TAG_KV_AS_USER;
  out[1] = name.byteLength;
  out.set(name, 2);
  out.set(inner, 2 + name.byteLength);
  return out;
}

function decodeAsUser(body: Uint8Array): NodeCommand {
  const length = body[0];
  if (length === undefined || body.byteLength < 1 + length)
    throw new NodeCommandDecodeError('user name cut short');
  const user = new TextDecoder().decode(body.subarray(1, 1 + length));
  const inner = body.subarray(1 + length);
  if (inner[0] !== TAG_KV && inner[0] !== TAG_KV_WITH_SESSION)
    throw new NodeCommandDecodeError('a user-tagged entry holds no key-value command');
  const command = decodeNodeCommand(inner);
  return { ...(command as Extract<NodeCommand, { type: 'kv' }>), user };
}

export function decodeNodeCommand(bytes: Uint8Array): NodeCommand {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case TAG_KV:
      return { type: 'kv', command: decodeKvCommand(body) };
    case TAG_KV_ANONYMOUS:
      return { type: 'kv', command: decodeKvCommand(body), user: '' };
    case TAG_KV_WITH_SESSION:
    case TAG_KV_ANONYMOUS_WITH_SESSION: {
      const envelope = decodeSessionEnvelope(body);
      return {
        type: 'kv',
        command: decodeKvCommand(envelope.payload),
        session: { clientId: envelope.clientId, sequence: envelope.sequence },
        ...(bytes[0] === TAG_KV_ANONYMOUS_WITH_SESSION ? { user: '' } : {}),
      };
    }
    case TAG_MEMBER:
      return decodeMemberChange(body);
    case TAG_AUTH:
      return { type: 'auth', command: decodeAuthCommand(body) };
    case TAG_KV_AS_USER:
      return decodeAsUser(body);
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

/** `body` behind one tag byte, in pooled memory (sent, or copied by the Raft log). */
export function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = pooledBytes(body.byteLength + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
}
