import type { HistoryOperation } from './history.js';
import { type RegisterOperation, type RegisterState, stepRegister } from './register-model.js';

/**
 * Linearizability checking of key-value histories (put / get / cas on string registers).
 *
 * The search is the Wing & Gong backtracking algorithm over a linked list of call and
 * return events, with Lowe's memoization: a configuration is the set of operations already
 * linearized plus the register's value, and a configuration seen before is never explored
 * again. Keys are independent registers, so the history is split per key and each key is
 * searched on its own (linearizability is compositional), which keeps each search small.
 *
 * Operations with status `info` (no answer ever came) may take effect at any time after
 * their call, or never: their return is placed at infinity and the search succeeds as soon
 * as every operation that did return has been linearized. `fail` operations and `info`
 * reads constrain nothing and are left out.
 */

/** Default search budget per key, in search steps; exhausting it gives `unknown`, never a guess. */
export const DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;
/** How often (in steps) the optional wall-time budget is consulted. */
const TIME_CHECK_INTERVAL_STEPS = 4096;

export type Verdict = 'linearizable' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Search steps allowed per key before the key's verdict becomes `unknown`. */
  readonly maxStepsPerKey?: number;
  /** Wall-time budget for the whole check; needs `nowMs`. */
  readonly timeBudgetMs?: number;
  /** Time source for `timeBudgetMs` (for example `() => performance.now()`). */
  readonly nowMs?: () => number;
}

export interface KeyResult {
  readonly key: string;
  readonly verdict: Verdict;
  readonly operations: number;
  readonly steps: number;
  /** On `illegal`: what could not be linearized, in words. */
  readonly counterexample?: string;
}

export interface CheckResult {
  /** `illegal` if any key is; else `unknown` if any key ran out of budget; else `linearizable`. */
  readonly verdict: Verdict;
  readonly keys: readonly KeyResult[];
  /** The first illegal key's counterexample. */
  readonly counterexample?: string;
}

/** Checks a whole history, key by key. */
export function checkHistory(history: readonly HistoryOperation[], options: CheckOptions = {}): CheckResult {
  const byKey = new Map<string, RegisterOperation[]>();
  for (let historyIndex = 0; historyIndex < history.length; historyIndex++) {
    const operation = toRegisterOperation(history[historyIndex]!, historyIndex, byKey);
    if (operation === undefined) continue;
  }
  const startMs = options.nowMs?.();
  const deadlineMs =
    options.timeBudgetMs !== undefined && startMs !== undefined ? startMs + options.timeBudgetMs : undefined;
  const keys: KeyResult[] = [];
  const sortedKeys = [...byKey.keys()].sort();
  for (const key of sortedKeys) {
    const operations = byKey.get(key)!;
    keys.push(
      checkRegister(key, operations, history, {
        maxSteps: options.maxStepsPerKey ?? DEFAULT_MAX_STEPS_PER_KEY,
        deadlineMs,
        nowMs: options.nowMs,
      }),
    );
  }
  const illegal = keys.find((result) => result.verdict === 'illegal');
  if (illegal !== undefined) {
    return illegal.counterexample === undefined
      ? { verdict: 'illegal', keys }
      : { verdict: 'illegal', keys, counterexample: illegal.counterexample };
  }
  const verdict: Verdict = keys.some((result) => result.verdict === 'unknown') ? 'unknown' : 'linearizable';
  return { verdict, keys };
}

function toRegisterOperation(
  operation: HistoryOperation,
  historyIndex: number,
  byKey: Map<string, RegisterOperation[]>,
): RegisterOperation | undefined {
  const status = operation.status ?? 'ok';
  if (status === 'fail') return undefined;
  const isInfo = status === 'info';
  if (isInfo && operation.op === 'get') return undefined;
  let list = byKey.get(operation.key);
  if (list === undefined) {
    list = [];
    byKey.set(operation.key, list);
  }
  const registerOperation: RegisterOperation = {
    id: list.length,
    kind: operation.op,
    value: operation.value ?? null,
    expected: operation.expected ?? null,
    // An info cas matters only if it swapped; a failed compare leaves no trace.
    swapped: isInfo ? true : operation.ok === true,
    callTs: operation.call_ts,
    returnTs: isInfo ? Number.POSITIVE_INFINITY : (operation.return_ts ?? Number.POSITIVE_INFINITY),
    mustReturn: !isInfo,
    historyIndex,
  };
  list.push(registerOperation);
  return registerOperation;
}

/** A node of the doubly linked event list the search walks. */
interface ListEntry {
  readonly operation: RegisterOperation | undefined;
  readonly isCall: boolean;
  match: ListEntry | undefined;
  previous: ListEntry | undefined;
  next: ListEntry | undefined;
}

interface SearchLimits {
  readonly maxSteps: number;
  readonly deadlineMs: number | undefined;
  readonly nowMs: (() => number) | undefined;
}

interface CacheEntry {
  readonly bits: Uint32Array;
  readonly state: RegisterState;
}

function checkRegister(
  key: string,
  operations: readonly RegisterOperation[],
  history: readonly HistoryOperation[],
  limits: SearchLimits,
): KeyResult {
  const head = buildList(operations);
  const wordCount = Math.max(1, Math.ceil(operations.length / 32));
  const bits = new Uint32Array(wordCount);
  const cache = new Map<number, CacheEntry[]>();
  const stack: { entry: ListEntry; state: RegisterState }[] = [];
  let state: RegisterState = null;
  let hash = 0;
  let remainingMustReturn = operations.filter((operation) => operation.mustReturn).length;
  let steps = 0;
  let best: { prefix: RegisterOperation[]; state: RegisterState; blocker: RegisterOperation } | undefined;
  let entry = head.next;

  for (;;) {
    if (remainingMustReturn === 0)
      return { key, verdict: 'linearizable', operations: operations.length, steps };
    steps++;
    if (steps > limits.maxSteps) return { key, verdict: 'unknown', operations: operations.length, steps };
    if (
      limits.deadlineMs !== undefined &&
      limits.nowMs !== undefined &&
      steps % TIME_CHECK_INTERVAL_STEPS === 0 &&
      limits.nowMs() > limits.deadlineMs
    ) {
      return { key, verdict: 'unknown', operations: operations.length, steps };
    }
    // While an operation that must return is still in the list, its return entry is too,
    // and info returns sit after it at infinity, so the walk always finds an entry here.
    const current = entry!;
    const operation = current.operation!;
    if (current.isCall) {
      const nextState = stepRegister(state, operation);
      if (nextState !== undefined) {
        const word = operation.id >>> 5;
        const mask = 1 << (operation.id & 31);
        bits[word]! |= mask;
        const nextHash = (hash ^ operationHash(operation.id)) >>> 0;
        if (rememberConfiguration(cache, nextHash, stateHash(nextState), bits, nextState)) {
          stack.push({ entry: current, state });
          state = nextState;
          hash = nextHash;
          lift(current);
          if (operation.mustReturn) remainingMustReturn--;
          entry = head.next;
          continue;
        }
        bits[word]! &= ~mask;
      }
      entry = current.next;
      continue;
    }
    // A return reached before its operation was linearized: undo the last choice.
    if (best === undefined || stack.length >= best.prefix.length) {
      best = { prefix: stack.map((frame) => frame.entry.operation!), state, blocker: operation };
    }
    const frame = stack.pop();
    if (frame === undefined) {
      return {
        key,
        verdict: 'illegal',
        operations: operations.length,
        steps,
        counterexample: describeCounterexample(key, best, history),
      };
    }
    const undone = frame.entry.operation!;
    bits[undone.id >>> 5]! &= ~(1 << (undone.id & 31));
    hash = (hash ^ operationHash(undone.id)) >>> 0;
    state = frame.state;
    unlift(frame.entry);
    if (undone.mustReturn) remainingMustReturn++;
    entry = frame.entry.next;
  }
}

function buildList(operations: readonly RegisterOperation[]): ListEntry {
  const events: { time: number; isCall: boolean; entry: ListEntry; order: number }[] = [];
  for (const operation of operations) {
    const call: ListEntry = {
      operation,
      isCall: true,
      match: undefined,
      previous: undefined,
      next: undefined,
    };
    const ret: ListEntry = {
      operation,
      isCall: false,
      match: undefined,
      previous: undefined,
      next: undefined,
    };
    call.match = ret;
    ret.match = call;
    events.push({ time: operation.callTs, isCall: true, entry: call, order: operation.id });
    events.push({ time: operation.returnTs, isCall: false, entry: ret, order: operation.id });
  }
  // Calls before returns at equal times: touching intervals count as concurrent.
  events.sort((a, b) =>
    a.time !== b.time ? a.time - b.time : a.isCall !== b.isCall ? (a.isCall ? -1 : 1) : a.order - b.order,
  );
  const head: ListEntry = {
    operation: undefined,
    isCall: false,
    match: undefined,
    previous: undefined,
    next: undefined,
  };
  let tail = head;
  for (const event of events) {
    event.entry.previous = tail;
    tail.next = event.entry;
    tail = event.entry;
  }
  return head;
}

function lift(call: ListEntry): void {
  call.previous!.next = call.next;
  call.next!.previous = call.previous;
  const ret = call.match!;
  ret.previous!.next = ret.next;
  if (ret.next !== undefined) ret.next.previous = ret.previous;
}

function unlift(call: ListEntry): void {
  const ret = call.match!;
  ret.previous!.next = ret;
  if (ret.next !== undefined) ret.next.previous = ret;
  call.previous!.next = call;
  call.next!.previous = call;
}

/** Records the configuration; false when it had been seen already. */
function rememberConfiguration(
  cache: Map<number, CacheEntry[]>,
  bitsHash: number,
  valueHash: number,
  bits: Uint32Array,
  state: RegisterState,
): boolean {
  const key = (bitsHash ^ Math.imul(valueHash, 0x9e3779b1)) >>> 0;
  let bucket = cache.get(key);
  if (bucket === undefined) {
    bucket = [];
    cache.set(key, bucket);
  } else {
    for (const seen of bucket) if (seen.state === state && sameBits(seen.bits, bits)) return false;
  }
  bucket.push({ bits: bits.slice(), state });
  return true;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** Zobrist-style per-operation hash so the set's hash updates in O(1). */
function operationHash(id: number): number {
  let z = (id + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function stateHash(state: RegisterState): number {
  if (state === null) return 0x5bd1e995;
  let hash = 0x811c9dc5;
  for (let index = 0; index < state.length; index++)
    hash = Math.imul(hash ^ state.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

function describeCounterexample(
  key: string,
  best: { prefix: RegisterOperation[]; state: RegisterState; blocker: RegisterOperation } | undefined,
  history: readonly HistoryOperation[],
): string {
  if (best === undefined) return `key ${JSON.stringify(key)}: no linearization exists`;
  const prefix = best.prefix.map((operation) => describeOperation(history[operation.historyIndex]!));
  return [
    `key ${JSON.stringify(key)}: not linearizable.`,
    `Longest valid order found (${prefix.length} ops): ${prefix.length === 0 ? '(none)' : prefix.join(' ; ')}`,
    `leaves the value ${JSON.stringify(best.state)}, and then`,
    `${describeOperation(history[best.blocker.historyIndex]!)} cannot take effect before it returned`,
    '(no order of the operations concurrent with it explains its result).',
  ].join(' ');
}

export function describeOperation(operation: HistoryOperation): string {
  const status = operation.status ?? 'ok';
  const when = `[${operation.call_ts}, ${operation.return_ts ?? '?'}]`;
  const who = `client ${operation.client}`;
  switch (operation.op) {
    case 'put':
      return `${who} put(${JSON.stringify(operation.value)})${status === 'info' ? ' (info)' : ''} ${when}`;
    case 'get':
      return `${who} get -> ${JSON.stringify(operation.value)} ${when}`;
    case 'cas':
      return `${who} cas(${JSON.stringify(operation.expected ?? null)} -> ${JSON.stringify(operation.value)})${
        status === 'info' ? ' (info)' : operation.ok ? ' swapped' : ' compare failed'
      } ${when}`;
  }
}
