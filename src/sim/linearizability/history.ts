import { ValidationError } from '../../lib/index.js';

/** The three outcomes a client can record (see HISTORY_FORMAT.md). */
export type OperationStatus = 'ok' | 'fail' | 'info';

/** One client operation as written to a history file (JSON Lines, one per line). */
export interface HistoryOperation {
  readonly client: number | string;
  readonly op: 'get' | 'put' | 'cas';
  readonly key: string;
  /** get: the value read (null: absent); put: the value written; cas: the new value. */
  readonly value: string | null;
  /** cas only: the value compared against (null: expect absent). */
  readonly expected?: string | null;
  /** cas only, status ok: whether the swap happened. */
  readonly ok?: boolean;
  readonly status?: OperationStatus;
  readonly call_ts: number;
  readonly return_ts?: number;
}

/** Formats operations as JSON Lines, one operation per line, fields in the documented order. */
export function formatHistory(operations: readonly HistoryOperation[]): string {
  return operations.map((operation) => `${JSON.stringify(operation)}\n`).join('');
}

/** Parses and validates a JSON Lines history; every problem found is reported at once. */
export function parseHistory(text: string): HistoryOperation[] {
  const problems: string[] = [];
  const operations: HistoryOperation[] = [];
  const lines = text.split('\n');
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex]!.trim();
    if (line === '') continue;
    const where = `line ${lineIndex + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push(`${where}: not valid JSON`);
      continue;
    }
    const operation = validateOperation(parsed, where, problems);
    if (operation !== undefined) operations.push(operation);
  }
  if (problems.length > 0) throw new ValidationError('history', problems);
  return operations;
}

function validateOperation(parsed: unknown, where: string, problems: string[]): HistoryOperation | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${where}: expected a JSON object`);
    return undefined;
  }
  const record = parsed as Record<string, unknown>;
  const before = problems.length;
  const client = record.client;
  if (typeof client !== 'number' && typeof client !== 'string')
    problems.push(`${where}: client must be a number or string`);
  const op = record.op;
  if (op !== 'get' && op !== 'put' && op !== 'cas') problems.push(`${where}: op must be get, put or cas`);
  if (typeof record.key !== 'string') problems.push(`${where}: key must be a string`);
  const status = record.status ?? 'ok';
  if (status !== 'ok' && status !== 'fail' && status !== 'info')
    problems.push(`${where}: status must be ok, fail or info`);
  const value = record.value;
  if (
    value !== null &&
    typeof value !== 'string' &&
    !(op === 'get' && status === 'info' && value === undefined)
  ) {
    problems.push(`${where}: value must be a string or null`);
  }
  if ((op === 'put' || op === 'cas') && typeof value !== 'string')
    problems.push(`${where}: ${op} value must be a string`);
  if (op === 'cas') {
    if (record.expected !== null && typeof record.expected !== 'string')
      problems.push(`${where}: cas expected must be a string or null`);
    if (status === 'ok' && typeof record.ok !== 'boolean')
      problems.push(`${where}: a completed cas needs ok: true|false`);
  }
  if (typeof record.call_ts !== 'number' || !Number.isFinite(record.call_ts))
    problems.push(`${where}: call_ts must be a finite number`);
  if (status === 'info') {
    if (record.return_ts !== undefined && typeof record.return_ts !== 'number')
      problems.push(`${where}: return_ts must be a number when present`);
  } else if (typeof record.return_ts !== 'number' || !Number.isFinite(record.return_ts)) {
    problems.push(`${where}: return_ts is required unless status is info`);
  } else if (typeof record.call_ts === 'number' && record.return_ts < record.call_ts) {
    problems.push(`${where}: return_ts is before call_ts`);
  }
  if (problems.length > before) return undefined;
  return parsed as HistoryOperation;
}
