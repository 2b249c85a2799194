/**
 * The built-in `journal` kind, made for checking: it keeps every payload in arrival order and
 * answers each event with the payload's 0-based index as decimal text. It is bounded by
 * `maxEntries` and `maxBytes` (payload bytes summed; config fields, defaults
 * `DEFAULT_JOURNAL_MAX_ENTRIES` and `DEFAULT_JOURNAL_MAX_BYTES`). When an event would pass either
 * limit it is refused with `DAEMON_JOURNAL_FULL` and nothing changes: a full journal stays
 * full (it never drops old entries, since a test reading it back must see every event).
 *
 * The snapshot is binary: a version byte, the entry count, then each payload with its length
 * (`BinaryWriter` fields). `decodeJournalState` reads it back, so a test can take a member's
 * `state` and check every payload in order.
 */
import type { DaemonEvent } from '../../compute/index.js';
import { BinaryReader, BinaryWriter, InputProblems } from '../../lib/index.js';
import { DaemonStateInvalidError, JournalFullError } from '../errors.js';
import {
  DEFAULT_JOURNAL_MAX_BYTES,
  DEFAULT_JOURNAL_MAX_ENTRIES,
  MAX_JOURNAL_BYTES_LIMIT,
  MAX_JOURNAL_ENTRIES_LIMIT,
} from '../limits.js';
import type { DaemonKind, DaemonKindContext } from '../types.js';
import { BuiltInDaemon, configFields } from './built-in-daemon.js';

export const JOURNAL_KIND_NAME = 'journal';
const JOURNAL_STATE_VERSION = 1;
const textEncoder = new TextEncoder();

export interface JournalConfig {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** The config with its defaults filled in, or a `ValidationError` listing every problem. */
export function validateJournalConfig(config: unknown): JournalConfig {
  const problems = new InputProblems();
  const fields = configFields(problems, config, ['maxEntries', 'maxBytes']);
  const maxEntries = fields.maxEntries ?? DEFAULT_JOURNAL_MAX_ENTRIES;
  const maxBytes = fields.maxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
  problems.integer('maxEntries', maxEntries, 1, MAX_JOURNAL_ENTRIES_LIMIT);
  problems.integer('maxBytes', maxBytes, 1, MAX_JOURNAL_BYTES_LIMIT);
  problems.throwIfAny('journal config');
  return { maxEntries: maxEntries as number, maxBytes: maxBytes as number };
}

function stateError(subject: string, problem: string): DaemonStateInvalidError {
  return new DaemonStateInvalidError(subject, problem);
}

/** Every payload a journal snapshot holds, in arrival order; bad bytes fail with `DAEMON_STATE_INVALID`. */
export function decodeJournalState(state: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(state, 'journal state', stateError);
  const version = reader.byte();
  if (version !== JOURNAL_STATE_VERSION) reader.fail(`unknown version ${version}`);
  const count = reader.count(1, MAX_JOURNAL_ENTRIES_LIMIT);
  const entries: Uint8Array[] = [];
  for (let index = 0; index < count; index++) entries.push(reader.bytesCopy());
  reader.end();
  return entries;
}

export function encodeJournalState(entries: readonly Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter();
  writer.byte(JOURNAL_STATE_VERSION).varuint(entries.length);
  for (const entry of entries) writer.bytes(entry);
  return writer.finish();
}

export class JournalDaemon extends BuiltInDaemon {
  private entries: Uint8Array[] = [];
  private totalBytes = 0;

  constructor(
    name: string,
    private readonly config: JournalConfig,
  ) {
    super(name);
  }

  process(event: DaemonEvent): readonly Uint8Array[] {
    if (this.entries.length >= this.config.maxEntries) {
      throw new JournalFullError('entries', this.config.maxEntries);
    }
    if (this.totalBytes + event.payload.length > this.config.maxBytes) {
      throw new JournalFullError('bytes', this.config.maxBytes);
    }
    const index = this.entries.length;
    // A copy: the event's payload may be a view of a buffer its sender reuses.
    this.entries.push(event.payload.slice());
    this.totalBytes += event.payload.length;
    return [textEncoder.encode(String(index))];
  }

  /** The payloads kept, in arrival order. */
  payloads(): readonly Uint8Array[] {
    return this.entries;
  }

  snapshot(): Uint8Array {
    return encodeJournalState(this.entries);
  }

  restore(state: Uint8Array): void {
    const entries = decodeJournalState(state);
    const totalBytes = entries.reduce((sum, entry) => sum + entry.length, 0);
    if (entries.length > this.config.maxEntries || totalBytes > this.config.maxBytes) {
      throw new DaemonStateInvalidError(
        'journal state',
        `${entries.length} entries of ${totalBytes} bytes exceed this journal's limits (${this.config.maxEntries} entries, ${this.config.maxBytes} bytes)`,
      );
    }
    this.entries = entries;
    this.totalBytes = totalBytes;
  }
}

export const journalKind: DaemonKind = Object.freeze({
  name: JOURNAL_KIND_NAME,
  validateConfig(config: unknown): void {
    validateJournalConfig(config);
  },
  create(config: unknown, context: DaemonKindContext): JournalDaemon {
    return new JournalDaemon(context.daemonName, validateJournalConfig(config));
  },
});
