/**
 * Exactly-once answers: per client id, the last sequence a member applied and what it
 * answered, so that a retry (after a failover, say) is answered with the first answer and not
 * applied again. Rules, for an event carrying `(clientId, sequence)`:
 *
 * - sequence above the client's last (or a client not in the table): new, apply it;
 * - sequence equal to the last: a duplicate, answered with the recorded outcome;
 * - sequence below the last: stale, refused with `DAEMON_SEQUENCE_STALE` (its answer is no
 *   longer kept; nothing is applied).
 *
 * The table is bounded by `maxClients` and `maxBytes`; past either, the client whose last event
 * was applied longest ago is evicted. An evicted client's retry of its last event is then new
 * and applied a second time: the bounds are set so that this needs more than
 * `MAX_DEDUP_CLIENTS` other clients to send between an event and its retry.
 *
 * Only `record` changes the table (a lookup does not refresh a client), so every member that
 * applies the same inbound chain holds the same table, eviction order included.
 */
import { assert, type BinaryReader, type BinaryWriter, MeshError } from '../lib/index.js';
import { MAX_DAEMON_CLIENT_ID_CHARACTERS } from './cluster-limits.js';
import { DaemonSequenceStaleError } from './errors.js';
import {
  DEDUP_ENTRY_OVERHEAD_BYTES,
  MAX_DAEMON_OUTPUT_BYTES,
  MAX_DAEMON_OUTPUT_BYTES_PER_EVENT,
  MAX_DAEMON_OUTPUTS_PER_EVENT,
  MAX_DEDUP_CLIENTS,
  MAX_DEDUP_FAILURE_MESSAGE_CHARACTERS,
  MAX_DEDUP_TABLE_BYTES,
} from './limits.js';

assert(
  MAX_DAEMON_OUTPUT_BYTES_PER_EVENT + DEDUP_ENTRY_OVERHEAD_BYTES < MAX_DEDUP_TABLE_BYTES,
  'the dedup table holds the largest answer',
);

/** What applying an event came to, as a retry is answered. */
export type RecordedOutcome =
  | { readonly type: 'applied'; readonly outputs: readonly Uint8Array[] }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

export interface DedupEntry {
  readonly clientId: string;
  readonly sequence: number;
  /** Where the event that got this answer sits on the inbound chain. */
  readonly inboundOffset: number;
  readonly outcome: RecordedOutcome;
}

export type DedupCheck =
  | { readonly type: 'new' }
  | { readonly type: 'duplicate'; readonly entry: DedupEntry };

export interface DedupLimits {
  readonly maxClients: number;
  readonly maxBytes: number;
}

export const DEFAULT_DEDUP_LIMITS: DedupLimits = Object.freeze({
  maxClients: MAX_DEDUP_CLIENTS,
  maxBytes: MAX_DEDUP_TABLE_BYTES,
});

const OUTCOME_APPLIED = 0;
const OUTCOME_FAILED = 1;

function entryBytes(entry: DedupEntry): number {
  const outcome = entry.outcome;
  const body =
    outcome.type === 'applied'
      ? outcome.outputs.reduce((sum, output) => sum + output.length, 0)
      : outcome.code.length + outcome.message.length;
  return DEDUP_ENTRY_OVERHEAD_BYTES + entry.clientId.length + body;
}

/** A failure as a dedup entry keeps it: its code and its message, cut to a bounded length. */
export function failureOutcome(error: MeshError): RecordedOutcome {
  return {
    type: 'failed',
    code: error.code,
    message: error.message.slice(0, MAX_DEDUP_FAILURE_MESSAGE_CHARACTERS),
  };
}

/** The error a recorded failure is answered with again. */
export function recordedFailure(outcome: Extract<RecordedOutcome, { type: 'failed' }>): MeshError {
  return new MeshError(outcome.code, outcome.message, { details: { duplicate: true } });
}

export class DedupTable {
  /** Insertion order is recency order: the first entry was applied longest ago. */
  private readonly entries = new Map<string, DedupEntry>();
  private totalBytes = 0;

  constructor(private readonly limits: DedupLimits = DEFAULT_DEDUP_LIMITS) {}

  /** Whether `(clientId, sequence)` is new or a duplicate; `DAEMON_SEQUENCE_STALE` below the last. */
  check(clientId: string, sequence: number): DedupCheck {
    const entry = this.entries.get(clientId);
    if (entry === undefined || sequence > entry.sequence) return { type: 'new' };
    if (sequence === entry.sequence) return { type: 'duplicate', entry };
    throw new DaemonSequenceStaleError(clientId, sequence, entry.sequence);
  }

  /** Records a client's newest answer, making it the most recent; evicts past the limits. */
  record(entry: DedupEntry): void {
    const previous = this.entries.get(entry.clientId);
    assert(
      previous === undefined || entry.sequence > previous.sequence,
      () => `dedup record of ${entry.clientId} sequence ${entry.sequence} after ${previous?.sequence}`,
    );
    if (previous !== undefined) {
      this.entries.delete(entry.clientId);
      this.totalBytes -= entryBytes(previous);
    }
    this.entries.set(entry.clientId, entry);
    this.totalBytes += entryBytes(entry);
    this.evict();
  }

  private evict(): void {
    while (this.entries.size > this.limits.maxClients || this.totalBytes > this.limits.maxBytes) {
      const [clientId, oldest] = this.entries.entries().next().value as [string, DedupEntry];
      this.entries.delete(clientId);
      this.totalBytes -= entryBytes(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Every entry, least recently applied first. */
  list(): readonly DedupEntry[] {
    return [...this.entries.values()];
  }

  /** Appends the entries (in recency order) to `writer`. */
  encode(writer: BinaryWriter): void {
    writer.varuint(this.entries.size);
    for (const entry of this.entries.values()) {
      writer.text(entry.clientId).varuint(entry.sequence).varuint(entry.inboundOffset);
      const outcome = entry.outcome;
      if (outcome.type === 'applied') {
        writer.byte(OUTCOME_APPLIED).varuint(outcome.outputs.length);
        for (const output of outcome.outputs) writer.bytes(output);
      } else {
        writer.byte(OUTCOME_FAILED).text(outcome.code).text(outcome.message);
      }
    }
  }

  /** Reads what `encode` wrote; each entry is checked against the limits of one answer. */
  static decode(reader: BinaryReader, limits: DedupLimits = DEFAULT_DEDUP_LIMITS): DedupTable {
    const table = new DedupTable(limits);
    const count = reader.count(1, limits.maxClients);
    for (let index = 0; index < count; index++) {
      const clientId = reader.text(MAX_DAEMON_CLIENT_ID_CHARACTERS);
      const sequence = reader.varuint();
      const inboundOffset = reader.varuint();
      const outcome = readOutcome(reader);
      if (table.entries.has(clientId)) reader.fail(`client ${JSON.stringify(clientId)} appears twice`);
      table.record({ clientId, sequence, inboundOffset, outcome });
    }
    if (table.size !== count) reader.fail(`entries exceed the table's limit of ${limits.maxBytes} bytes`);
    return table;
  }
}

function readOutcome(reader: BinaryReader): RecordedOutcome {
  const type = reader.byte();
  if (type === OUTCOME_APPLIED) {
    const count = reader.count(1, MAX_DAEMON_OUTPUTS_PER_EVENT);
    const outputs: Uint8Array[] = [];
    for (let index = 0; index < count; index++) outputs.push(reader.bytesCopy(MAX_DAEMON_OUTPUT_BYTES));
    return { type: 'applied', outputs };
  }
  if (type === OUTCOME_FAILED) {
    return {
      type: 'failed',
      code: reader.text(MAX_DEDUP_FAILURE_MESSAGE_CHARACTERS),
      message: reader.text(MAX_DEDUP_FAILURE_MESSAGE_CHARACTERS),
    };
  }
  return reader.fail(`unknown outcome ${type}`);
}
