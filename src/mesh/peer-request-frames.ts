/**
 * The frames of a peer-request channel (peer-request-channel.ts: the daemons' and the blobs'
 * channels of the peer transport): a request or an answer, its id, a JSON header and any number
 * of binary blobs (event payloads, outputs, states, blob chunks), so payloads cross without
 * base64. Decoding is bounds-checked: a malformed frame is `PEER_REQUEST_FRAME_INVALID`, dropped
 * by the receiver.
 */
import { BinaryReader, BinaryWriter, MeshError } from '../lib/index.js';

const REQUEST_TAG = 0;
const ANSWER_TAG = 1;
/** Most blobs one frame carries (an event's outputs are bounded well below it). */
export const MAX_PEER_FRAME_BLOBS = 65_536;

export interface PeerFrame {
  readonly kind: 'request' | 'answer';
  readonly id: number;
  /** A JSON object: the request's or answer's fields. */
  readonly header: Readonly<Record<string, unknown>>;
  readonly blobs: readonly Uint8Array[];
}

export function encodePeerFrame(frame: PeerFrame): Uint8Array {
  const writer = new BinaryWriter()
    .byte(frame.kind === 'request' ? REQUEST_TAG : ANSWER_TAG)
    .varuint(frame.id)
    .text(JSON.stringify(frame.header))
    .varuint(frame.blobs.length);
  for (const blob of frame.blobs) writer.bytes(blob);
  return writer.finish();
}

/** A frame on a peer-request channel that is not one this code sent; the receiver drops it. */
export class PeerRequestFrameError extends MeshError {
  constructor(problem: string) {
    super('PEER_REQUEST_FRAME_INVALID', problem);
  }
}

/** `channel` names the channel in the error ('daemons', 'blobs'). */
export function decodePeerFrame(bytes: Uint8Array, channel = 'peer-request'): PeerFrame {
  const reader = new BinaryReader(
    bytes,
    `${channel} peer frame`,
    (subject, problem) => new PeerRequestFrameError(`${subject}: ${problem}`),
  );
  const tag = reader.byte();
  if (tag !== REQUEST_TAG && tag !== ANSWER_TAG) reader.fail(`unknown tag ${tag}`);
  const id = reader.varuint();
  let header: unknown;
  try {
    header = JSON.parse(reader.text());
  } catch {
    reader.fail('the header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    reader.fail('the header is not an object');
  const count = reader.count(1, MAX_PEER_FRAME_BLOBS);
  const blobs: Uint8Array[] = [];
  for (let index = 0; index < count; index++) blobs.push(reader.bytesCopy());
  reader.end();
  return {
    kind: tag === REQUEST_TAG ? 'request' : 'answer',
    id,
    header: header as Record<string, unknown>,
    blobs,
  };
}
