/**
 * Stage timestamps of chain appends, for `append-stages.ts` only: loaded with `node --import`
 * into the members and the load generator, it wraps methods of the built classes on the append
 * path and records, per process, when each stage was reached (microseconds on the wall clock,
 * which every process on the machine shares) with the ids that join stages across processes
 * (the stream's request id, offsets, peers). Bounded by `MAX_STAGE_EVENTS`; written to
 * `$MESHOS_STAGE_TRACE_DIR/<role>-<pid>.json` on SIGUSR2 or at exit. Nothing of it runs unless
 * a process is started with it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { AppendStreamSession } from '../../src/api/chain-append-stream.js';
import { ChainLogWriter } from '../../src/chains/chain-log-writer.js';
import { ChainReplica } from '../../src/chains/replica.js';
import { FollowerAcks } from '../../src/chains/replica-follower-acks.js';
import { ChainLeader } from '../../src/chains/replica-leader.js';
import { RecordPusher } from '../../src/chains/replica-push.js';
import { ChainAppendStream } from '../../src/client/chain-append-stream.js';
import { OutboundLink } from '../../src/transport/outbound-link.js';

export const STAGE_TRACE_DIRECTORY_VARIABLE = 'MESHOS_STAGE_TRACE_DIR';
/** Events one process keeps (about 30 bytes each in memory); later ones are dropped. */
export const MAX_STAGE_EVENTS = 500_000;

/** [time µs, stage, fields...]. */
export type StageEvent = [number, string, ...(string | number | undefined)[]];

const events: StageEvent[] = [];
let written = false;

function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

function record(stage: string, ...fields: (string | number | undefined)[]): void {
  if (events.length < MAX_STAGE_EVENTS) events.push([nowMicros(), stage, ...fields]);
}

function writeEvents(): void {
  const directory = process.env[STAGE_TRACE_DIRECTORY_VARIABLE];
  if (written || directory === undefined) return;
  written = true;
  mkdirSync(directory, { recursive: true });
  const role = process.argv.includes('start') ? 'member' : 'client';
  writeFileSync(`${directory}/${role}-${process.pid}.json`, JSON.stringify(events));
}

type Method = (this: Fields, ...args: never[]) => unknown;
type Fields = Record<string, unknown>;

/** Calls `before` with the method's receiver and arguments, then the method itself. */
function observe<A extends unknown[]>(
  prototype: object,
  name: string,
  before: (self: Fields, ...args: A) => void,
): void {
  const methods = prototype as Record<string, Method>;
  const original = methods[name];
  if (typeof original !== 'function') throw new Error(`stage trace: no method ${name}`);
  methods[name] = function (this: Fields, ...args: never[]) {
    before(this, ...(args as unknown as A));
    return original.apply(this, args);
  };
}

/** Like `observe`, and calls `after` once the promise the method returns settles. */
function observeSettled(prototype: object, name: string, before: () => void, after: () => void): void {
  const methods = prototype as Record<string, Method>;
  const original = methods[name];
  if (typeof original !== 'function') throw new Error(`stage trace: no method ${name}`);
  methods[name] = function (this: Fields, ...args: never[]) {
    before();
    const result = original.apply(this, args) as Promise<unknown>;
    void result.then(after, after);
    return result;
  };
}

type Message = { type: string; fromOffset?: number; matchEnd?: number; entries?: readonly unknown[] };
type Outcome = { first_offset?: number };

// The node's side of the append stream, the leader, the push, replicas' messages, the follower's
// acknowledgement, the peer link's socket write, the log's file write and sync.
observe(AppendStreamSession.prototype, 'take', (_self, request: { request_id: unknown }) =>
  record('node-takes', String(request.request_id)),
);
observe(AppendStreamSession.prototype, 'answer', (_self, id: string, outcome: Outcome) =>
  record('node-answers', id, outcome.first_offset),
);
observe(ChainLeader.prototype, 'append', (self, payloads: readonly unknown[]) =>
  record('leader-appends', ((self.context as Fields).log as Fields).endOffset as number, payloads.length),
);
observe(ChainLeader.prototype, 'countWhenDurable', (_self, end: number) =>
  record('leader-group-commit', end),
);
observe(ChainLeader.prototype, 'resolveCommitted', (_self, commit: number) =>
  record('leader-commits', commit),
);
observe(
  RecordPusher.prototype,
  'sendAppend',
  (_self, progress: { node: number }, fromOffset: number, entries: readonly unknown[]) =>
    record('leader-pushes', progress.node, fromOffset, entries.length),
);
observe(ChainReplica.prototype, 'receive', (_self, from: number, message: Message) =>
  record(`receives-${message.type}`, from, message.fromOffset ?? message.matchEnd, message.entries?.length),
);
observe(FollowerAcks.prototype, 'owe', (_self, leader: number, _epoch: number, matchEnd: number) =>
  record('follower-owes-ack', leader, matchEnd),
);
observe(OutboundLink.prototype, 'flush', (self) => {
  const queued = (self.queue as { length: number }).length;
  if (queued > 0) record('link-writes', self.peerId as number, queued);
});
observe(ChainLogWriter.prototype, 'flush', (self) => {
  if ((self.chunkBytes as number) > 0) record('log-writes');
});
// `interval`: the periodic sync; `batch`: a sync started, and its result counted (they overlap).
observeSettled(
  ChainLogWriter.prototype,
  'sync',
  () => record('log-syncs'),
  () => record('log-synced'),
);
observe(ChainLogWriter.prototype, 'startBatchSync', () => record('log-syncs'));
observe(ChainLogWriter.prototype, 'batchSynced', () => record('log-synced'));
// The client's append stream.
observe(ChainAppendStream.prototype, 'send', (self) => record('client-sends', self.nextId as number));
observe(ChainAppendStream.prototype, 'answered', (_self, response: { request_id: unknown }) =>
  record('client-reads-answer', String(response.request_id)),
);

/** The load generator's own marks (an append called, an append resolved). */
export function markStage(stage: string, ...fields: (string | number | undefined)[]): void {
  record(stage, ...fields);
}

/** Writes this process's events now (the members write theirs on SIGUSR2). */
export function writeStageEvents(): void {
  writeEvents();
}

process.on('SIGUSR2', writeEvents);
process.on('exit', writeEvents);
