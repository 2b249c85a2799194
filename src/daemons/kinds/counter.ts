/**
 * The built-in `counter` kind: each payload is an integer written as UTF-8 decimal text (an
 * optional `-` and 1 to 16 digits, a safe integer); the state is `{events, sum}`, plus `keys`,
 * the events counted per event key, once an event with a key arrived; each event's one output is
 * the running sum as decimal text. A payload that is not such an integer, or that would take the
 * sum out of the safe integer range, is refused with `DAEMON_PAYLOAD_INVALID`, and a new key past
 * `MAX_COUNTER_KEYS` with `DAEMON_COUNTER_KEYS_FULL`, before anything changes. The snapshot is
 * the state as UTF-8 JSON, `{"events":3,"sum":6}` or `{"events":3,"sum":6,"keys":{"a":2}}` (keys
 * sorted), so `meshos daemon state` shows it as it is.
 */
import type { DaemonEvent } from '../../compute/index.js';
import { InputProblems } from '../../lib/index.js';
import { CounterKeysFullError, DaemonPayloadError, DaemonStateInvalidError } from '../errors.js';
import { MAX_COUNTER_KEYS, MAX_COUNTER_PAYLOAD_DIGITS } from '../limits.js';
import type { DaemonKind, DaemonKindContext } from '../types.js';
import { BuiltInDaemon, configFields } from './built-in-daemon.js';

export const COUNTER_KIND_NAME = 'counter';

export interface CounterState {
  readonly events: number;
  readonly sum: number;
  /** Events counted per event key, keys sorted; absent until an event with a key arrived. */
  readonly keys?: Readonly<Record<string, number>>;
}

const INTEGER_TEXT = new RegExp(`^-?[0-9]{1,${MAX_COUNTER_PAYLOAD_DIGITS}}$`);
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** The integer a counter payload carries, or `DAEMON_PAYLOAD_INVALID`. */
export function parseCounterPayload(payload: Uint8Array): number {
  let text: string;
  try {
    text = textDecoder.decode(payload);
  } catch {
    throw new DaemonPayloadError(COUNTER_KIND_NAME, 'the payload is not UTF-8 text');
  }
  if (!INTEGER_TEXT.test(text)) {
    throw new DaemonPayloadError(
      COUNTER_KIND_NAME,
      `expected decimal integer text (an optional '-' and 1 to ${MAX_COUNTER_PAYLOAD_DIGITS} digits), got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new DaemonPayloadError(COUNTER_KIND_NAME, `${text} is outside the safe integer range`);
  }
  return value;
}

/** Reads a counter snapshot back; bad bytes fail with `DAEMON_STATE_INVALID`. */
export function decodeCounterState(state: Uint8Array): CounterState {
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(state));
  } catch {
    throw new DaemonStateInvalidError('counter state', 'not UTF-8 JSON');
  }
  const problems = new InputProblems();
  if (problems.record('state', value)) {
    problems.integer('events', value.events, 0, Number.MAX_SAFE_INTEGER);
    problems.integer('sum', value.sum, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const fields = Object.keys(value).filter((field) => field !== 'keys');
    if (fields.length !== 2) problems.add('state must have the fields events and sum, and keys only');
    if (value.keys !== undefined) keyCountProblems(problems, value.keys);
  }
  if (problems.list.length > 0) throw new DaemonStateInvalidError('counter state', problems.list.join('; '));
  const record = value as { events: number; sum: number; keys?: Record<string, number> };
  return {
    events: record.events,
    sum: record.sum,
    ...(record.keys === undefined ? {} : { keys: record.keys }),
  };
}

function keyCountProblems(problems: InputProblems, keys: unknown): void {
  if (!problems.record('keys', keys)) return;
  const entries = Object.entries(keys);
  if (entries.length === 0 || entries.length > MAX_COUNTER_KEYS)
    problems.add(`keys must hold 1 to ${MAX_COUNTER_KEYS} keys, got ${entries.length}`);
  for (const [key, count] of entries)
    problems.integer(`keys[${JSON.stringify(key)}]`, count, 1, Number.MAX_SAFE_INTEGER);
}

export class CounterDaemon extends BuiltInDaemon {
  private events = 0;
  private sum = 0;
  private readonly keys = new Map<string, number>();

  process(event: DaemonEvent): readonly Uint8Array[] {
    const value = parseCounterPayload(event.payload);
    const sum = this.sum + value;
    if (!Number.isSafeInteger(sum)) {
      throw new DaemonPayloadError(
        COUNTER_KIND_NAME,
        `adding ${value} to ${this.sum} leaves the safe integer range`,
      );
    }
    const key = event.key;
    if (key !== undefined && !this.keys.has(key) && this.keys.size >= MAX_COUNTER_KEYS)
      throw new CounterKeysFullError(MAX_COUNTER_KEYS);
    this.sum = sum;
    this.events += 1;
    if (key !== undefined) this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
    return [textEncoder.encode(String(sum))];
  }

  /** The state; `keys` sorted, so every member writes the same snapshot bytes. */
  state(): CounterState {
    if (this.keys.size === 0) return { events: this.events, sum: this.sum };
    const keys = [...this.keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { events: this.events, sum: this.sum, keys: Object.fromEntries(keys) };
  }

  snapshot(): Uint8Array {
    return textEncoder.encode(JSON.stringify(this.state()));
  }

  restore(state: Uint8Array): void {
    const restored = decodeCounterState(state);
    this.events = restored.events;
    this.sum = restored.sum;
    this.keys.clear();
    for (const [key, count] of Object.entries(restored.keys ?? {})) this.keys.set(key, count);
  }
}

/** The counter takes no config: absent, null or `{}`. */
function validateCounterConfig(config: unknown): void {
  const problems = new InputProblems();
  configFields(problems, config, []);
  problems.throwIfAny('counter config');
}

export const counterKind: DaemonKind = Object.freeze({
  name: COUNTER_KIND_NAME,
  validateConfig: validateCounterConfig,
  create(config: unknown, context: DaemonKindContext): CounterDaemon {
    validateCounterConfig(config);
    return new CounterDaemon(context.daemonName);
  },
});
