/**
 * A replica's answers to a leader's requests. The caller has already checked the request's
 * epoch (not older than promised, from that epoch's leader) and recorded the promise; these
 * answer only once what they report is durable, and not at all when a newer epoch was promised
 * meanwhile (the asker is fenced then, and an answer would be counted for a stale epoch).
 */

import type { NodeId } from '../lib/index.js';
import { MAX_MESSAGE_RECORD_BYTES, MAX_MESSAGE_RECORDS } from './replica-constants.js';
import type { ReplicaContext } from './replica-context.js';
import { divergenceAt, historyTail, reconcileEntries } from './replica-epochs.js';
import type { FollowerAcks } from './replica-follower-acks.js';
import { joinAtLogStart, resumeAtLogStart, sentFromLogStart } from './replica-log-start.js';
import type { AppendMessage, ClaimMessage, Divergence, FetchMessage } from './replica-messages.js';

function stillPromised(context: ReplicaContext, epoch: number): boolean {
  return context.log.promisedEpoch === epoch;
}

/** Promises the claimed epoch and reports the log as it stands once the promise is durable. */
export function answerClaim(context: ReplicaContext, from: NodeId, message: ClaimMessage): void {
  const { log } = context;
  context.whenDurable(() => {
    if (!stillPromised(context, message.epoch)) return;
    context.send(from, {
      type: 'claimAck',
      chain: context.chain,
      epoch: message.epoch,
      startOffset: log.startOffset,
      endOffset: log.endOffset,
      lastEpoch: log.lastEpoch,
      echoMs: message.sentAtMs,
      historyTail: historyTail(log.epochHistory()),
    });
  });
}

/**
 * Takes the leader's records if the record before them matches ours (else says where our logs
 * part), cuts off a conflicting suffix, learns the commit offset for the records known to
 * match, and acknowledges what is durable (with the other appends of the turn: `FollowerAcks`).
 */
export function acceptAppend(
  context: ReplicaContext,
  acks: FollowerAcks,
  from: NodeId,
  message: AppendMessage,
): void {
  const { log } = context;
  const divergence = partingFrom(context, message);
  if (divergence !== undefined) {
    context.send(from, {
      type: 'appendRefused',
      chain: context.chain,
      epoch: message.epoch,
      fromOffset: message.fromOffset,
      echoMs: message.sentAtMs,
      ...divergence,
    });
    return;
  }
  const truncatedAt = reconcileEntries(log, message.fromOffset, message.entries);
  if (truncatedAt !== undefined) context.truncated(truncatedAt);
  const matchEnd = message.fromOffset + message.entries.length;
  context.advanceCommit(Math.min(message.commitOffset, matchEnd));
  acks.owe(from, message.epoch, matchEnd, message.sentAtMs);
}

/**
 * Where our log parts from the leader's before the append's records (undefined: it takes them).
 * Sent from the leader's start, they join our log (restarting it if need be), or are refused
 * when no record came to tell by: the leader's next probe sends records.
 */
function partingFrom(context: ReplicaContext, message: AppendMessage): Divergence | undefined {
  const { log } = context;
  if (!sentFromLogStart(message.fromOffset, message.prevEpoch))
    return divergenceAt(log, message.fromOffset, message.prevEpoch);
  if (joinAtLogStart(context, message.fromOffset, message.entries[0])) return undefined;
  return resumeAtLogStart(log);
}

/** Sends a claiming leader the records it lacks from our log, or where our logs part. */
export function serveFetch(context: ReplicaContext, from: NodeId, message: FetchMessage): void {
  const { log } = context;
  const reply = {
    type: 'fetchReply' as const,
    chain: context.chain,
    epoch: message.epoch,
    fromOffset: message.fromOffset,
  };
  // Retention dropped what was asked for: the answer says where our log starts (past the ask).
  const divergence =
    message.fromOffset < log.startOffset
      ? resumeAtLogStart(log)
      : divergenceAt(log, message.fromOffset, message.prevEpoch);
  if (divergence !== undefined || message.fromOffset >= log.endOffset) {
    context.send(from, { ...reply, divergence, entries: [] });
    return;
  }
  void log.read(message.fromOffset, MAX_MESSAGE_RECORDS, MAX_MESSAGE_RECORD_BYTES).then(
    (entries) => {
      if (!stillPromised(context, message.epoch) || entries[0]?.offset !== message.fromOffset) return;
      const endOffset = log.endOffset;
      context.send(from, {
        ...reply,
        divergence: undefined,
        entries: entries.filter((entry) => entry.offset < endOffset),
      });
    },
    () => {
      // Not answered: the leader asks again.
    },
  );
}
