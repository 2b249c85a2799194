/**
 * Decoders of what a peer node sends: transport frames cut at any point, handshakes, batches, and
 * every channel's messages (Raft, chains, proximity, daemons' and blobs' peer requests).
 */
import fc from 'fast-check';
import {
  decodeHostFrame,
  encodeAnswerFrame,
  encodeReplicaFrame,
  encodeRequestFrame,
} from '../../../src/chains/host-messages.js';
import { decodeChainMessage, encodeChainMessage } from '../../../src/chains/index.js';
import { decodeProximityMessage, encodeProximityMessage } from '../../../src/chains/proximity-messages.js';
import { decodePeerFrame, encodePeerFrame } from '../../../src/mesh/peer-request-frames.js';
import {
  decodeConfigChange,
  decodeMessage,
  encodeConfigChange,
  encodeMessage,
  MessageDecodeError,
} from '../../../src/raft/index.js';
import { SnapshotReceiver } from '../../../src/raft/snapshot-receiver.js';
import { MAX_HANDSHAKE_PAYLOAD_BYTES } from '../../../src/transport/handshake.js';
import {
  decodeBatch,
  decodeHandshake,
  encodeFrame,
  encodeHandshake,
  encodeMessagesFrame,
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
} from '../../../src/transport/index.js';
import { chainReplicaMessageArbitrary } from '../../support/arbitraries/chain-message.js';
import { raftMessageArbitrary } from '../../support/arbitraries/raft-message.js';
import { fuzzTarget } from '../support/fuzz-target.js';
import { applyMutations, cutAt, decoderInputs, join, mutationsArbitrary } from '../support/mutations.js';

const raftMessageBytes = raftMessageArbitrary.map(encodeMessage);

/** A frame's payload as the receiving node reads it. */
function decodeFramePayload(type: number, payload: Uint8Array): void {
  if (type === FrameType.handshake) decodeHandshake(payload);
  else if (type === FrameType.batch) for (const message of decodeBatch(payload)) decodeMessage(message);
  else if (type === FrameType.message) decodeMessage(payload);
}

const handshakeFrameBytes = fc
  .record({
    clusterId: fc.string({ minLength: 1, maxLength: 40 }),
    nodeId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  })
  .map((handshake) => encodeFrame(encodeHandshake({ ...handshake, protocolVersion: PROTOCOL_VERSION })));

/** A connection's byte stream: a handshake, then message and batch frames of Raft messages. */
const peerStreamBytes = fc
  .tuple(
    handshakeFrameBytes,
    fc.array(fc.array(raftMessageBytes, { minLength: 1, maxLength: 4 }), { maxLength: 3 }),
  )
  .map(([handshake, groups]) =>
    join([handshake, ...groups.map((group) => encodeMessagesFrame(group).slice())]),
  );

export const transportFrames = fuzzTarget({
  name: 'transport frame stream',
  fuzzRuns: 150_000,
  inputs: fc.tuple(decoderInputs(peerStreamBytes, 512), fc.array(fc.nat(), { maxLength: 6 })),
  check: ([bytes, cuts]) => {
    // As a connection reads: a handshake-sized limit first, then the full one.
    const decoder = new FrameDecoder(MAX_HANDSHAKE_PAYLOAD_BYTES);
    let frames = 0;
    for (const chunk of cutAt(bytes, cuts)) {
      for (const frame of decoder.push(chunk)) {
        if (frames++ === 0) decoder.setMaxPayloadBytes(64 * 1024);
        decodeFramePayload(frame.type, frame.payload);
      }
    }
    decoder.finish();
  },
});

export const raftMessages = fuzzTarget({
  name: 'Raft message',
  fuzzRuns: 150_000,
  inputs: decoderInputs(raftMessageBytes),
  check: (bytes) => {
    decodeMessage(bytes);
  },
});

const configChangeBytes = fc
  .oneof(
    fc.record({
      type: fc.constantFrom('addLearner', 'removeLearner', 'promoteLearner' as const),
      node: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    }),
    fc.record({
      type: fc.constant('changeVoters' as const),
      add: fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { maxLength: 4 }),
      remove: fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { maxLength: 4 }),
    }),
    fc.constant({ type: 'leaveJoint' as const }),
  )
  .map(encodeConfigChange);

export const raftConfigChanges = fuzzTarget({
  name: 'Raft config change entry',
  fuzzRuns: 50_000,
  inputs: decoderInputs(configChangeBytes, 64),
  check: (bytes) => {
    decodeConfigChange(bytes);
  },
});

export const chainReplicaMessages = fuzzTarget({
  name: 'chain replica message',
  fuzzRuns: 100_000,
  inputs: decoderInputs(chainReplicaMessageArbitrary.map(encodeChainMessage)),
  check: (bytes) => {
    decodeChainMessage(bytes);
  },
});

const chainName = fc.string({ maxLength: 30 });
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const hostFrameBytes = fc.oneof(
  chainReplicaMessageArbitrary.map((message) => encodeReplicaFrame(encodeChainMessage(message))),
  fc
    .tuple(
      count,
      fc.oneof(
        fc.record({
          type: fc.constant('append' as const),
          chain: chainName,
          payloads: fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 4 }),
          timeoutMs: count,
        }),
        fc.record({
          type: fc.constant('read' as const),
          chain: chainName,
          fromOffset: count,
          maxRecords: count,
          maxBytes: count,
          waitMs: count,
        }),
        fc.record({ type: fc.constant('status' as const), chain: chainName }),
      ),
    )
    .map(([id, request]) => encodeRequestFrame(id, request)),
  fc
    .tuple(
      count,
      fc.oneof(
        fc.record({
          type: fc.constant('append' as const),
          epoch: count,
          firstOffset: count,
          lastOffset: count,
        }),
        fc.record({ type: fc.constant('status' as const), json: fc.json() }),
        fc.record({ type: fc.constant('error' as const), code: chainName, message: chainName }),
        fc.record({
          type: fc.constant('read' as const),
          commitOffset: count,
          entries: fc.array(
            fc.record({
              offset: count,
              epoch: count,
              kind: fc.constantFrom('data', 'epoch-start' as const),
              appendedAtMs: count,
              payload: fc.uint8Array({ maxLength: 16 }),
            }),
            { maxLength: 3 },
          ),
        }),
      ),
    )
    .map(([id, answer]) => encodeAnswerFrame(id, answer)),
);

export const chainHostFrames = fuzzTarget({
  name: 'chains channel frame',
  fuzzRuns: 100_000,
  inputs: decoderInputs(hostFrameBytes),
  check: (bytes) => {
    const frame = decodeHostFrame(bytes);
    if (frame.kind === 'replica') decodeChainMessage(frame.body);
  },
});

export const proximityMessages = fuzzTarget({
  name: 'proximity ping',
  fuzzRuns: 20_000,
  inputs: decoderInputs(
    fc
      .record({ kind: fc.constantFrom('ping', 'pong' as const), sentAtMs: fc.double() })
      .map(encodeProximityMessage),
    32,
  ),
  check: (bytes) => {
    decodeProximityMessage(bytes);
  },
});

const peerFrameBytes = fc
  .record({
    kind: fc.constantFrom('request', 'answer' as const),
    id: count,
    header: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 4 }),
    blobs: fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 3 }),
  })
  .map(encodePeerFrame);

export const peerRequestFrames = fuzzTarget({
  name: 'daemons/blobs peer request frame',
  fuzzRuns: 80_000,
  inputs: decoderInputs(peerFrameBytes),
  check: (bytes) => {
    decodePeerFrame(bytes, 'fuzz');
  },
});

/** A snapshot of `totalBytes` sent as chunks cut at `cuts`, each chunk a Raft snapshot message. */
const snapshotChunkMessages = fc
  .record({
    index: fc.integer({ min: 1, max: 1000 }),
    term: fc.integer({ min: 1, max: 9 }),
    totalBytes: fc.integer({ min: 1, max: 300 }),
    cuts: fc.array(fc.nat(), { maxLength: 5 }),
  })
  .map(({ index, term, totalBytes, cuts }) => {
    const data = new Uint8Array(totalBytes).map((_, position) => position & 0xff);
    let offset = 0;
    return cutAt(data, cuts).map((chunk) => {
      const message = encodeMessage({
        type: 'snapshot',
        from: 1,
        to: 2,
        term,
        metadata: { index, term, config: { voters: [1, 2, 3], learners: [], outgoingVoters: [] } },
        offset,
        totalBytes,
        data: chunk,
      });
      offset += chunk.byteLength;
      return message;
    });
  });

export const snapshotChunks = fuzzTarget({
  name: 'snapshot chunks a follower receives',
  fuzzRuns: 50_000,
  inputs: fc.tuple(
    snapshotChunkMessages,
    fc.array(fc.record({ pick: fc.nat(), damage: fc.option(mutationsArbitrary, { nil: undefined }) }), {
      minLength: 1,
      maxLength: 12,
    }),
  ),
  check: ([messages, deliveries]) => {
    // Delivered in any order, repeated, lost or damaged; the receiver must only ever accept a
    // contiguous run from offset 0 and complete exactly at the snapshot's size.
    const receiver = new SnapshotReceiver();
    let held = 0;
    for (const { pick, damage } of deliveries) {
      const bytes = messages[pick % messages.length]!;
      let message: ReturnType<typeof decodeMessage>;
      try {
        message = decodeMessage(damage === undefined ? bytes : applyMutations(bytes, damage));
      } catch (error) {
        if (error instanceof MessageDecodeError) continue;
        throw error;
      }
      if (message.type !== 'snapshot') continue;
      const outcome = receiver.accept(message);
      if (outcome.kind === 'partial' && !outcome.accepted) continue;
      if (message.offset === 0) held = 0;
      if (message.offset !== held)
        throw new Error(`accepted a chunk at ${message.offset} holding ${held} bytes`);
      held += message.data.byteLength;
      if (outcome.kind === 'complete') {
        if (held !== outcome.info.byteLength)
          throw new Error(`completed with ${held} of ${outcome.info.byteLength} bytes`);
        held = 0;
      }
    }
  },
});

export const peerTargets = [
  snapshotChunks,
  transportFrames,
  raftMessages,
  raftConfigChanges,
  chainReplicaMessages,
  chainHostFrames,
  proximityMessages,
  peerRequestFrames,
];
