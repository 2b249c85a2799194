/**
 * Checks of the fields a chain's create request and its stored definition share: the name, the
 * acks, sync and retention policies. Each adds one message per problem to an `InputProblems`,
 * so a caller reports every problem at once.
 */
import { chainKey } from '../control/index.js';
import { type InputProblems, isRecord } from '../lib/index.js';
import {
  MAX_CHAIN_RECORD_BYTES,
  MAX_CHAIN_RETENTION_AGE_MS,
  MAX_CHAIN_RETENTION_BYTES,
  MAX_CHAIN_SYNC_INTERVAL_MS,
  MIN_CHAIN_RETENTION_AGE_MS,
  MIN_CHAIN_RETENTION_BYTES,
  MIN_CHAIN_SYNC_INTERVAL_MS,
} from './definition-limits.js';
import type { AcksPolicy } from './types.js';

export const ACKS_POLICIES: readonly AcksPolicy[] = ['one', 'quorum', 'all'];

/** The keyspace's rules for a name segment (chainKey throws on anything else). */
export function checkChainName(problems: InputProblems, value: unknown): void {
  if (typeof value !== 'string') {
    problems.text('name', value);
    return;
  }
  try {
    chainKey(value);
  } catch (error) {
    problems.add(`name ${JSON.stringify(value.slice(0, 40))}: ${(error as Error).message}`);
  }
}

export function checkSyncPolicy(problems: InputProblems, value: unknown): void {
  if (!problems.record('sync', value)) return;
  problems.oneOf('sync.mode', value.mode, ['batch', 'interval']);
  if (value.mode === 'interval') {
    problems.integer(
      'sync.intervalMs',
      value.intervalMs,
      MIN_CHAIN_SYNC_INTERVAL_MS,
      MAX_CHAIN_SYNC_INTERVAL_MS,
    );
  }
  checkOnlyFields(problems, 'sync', value, value.mode === 'interval' ? ['mode', 'intervalMs'] : ['mode']);
}

export function checkRetention(problems: InputProblems, value: unknown): void {
  if (!problems.record('retention', value)) return;
  if (value.maxBytes !== undefined) {
    problems.integer(
      'retention.maxBytes',
      value.maxBytes,
      MIN_CHAIN_RETENTION_BYTES,
      MAX_CHAIN_RETENTION_BYTES,
    );
  }
  if (value.maxAgeMs !== undefined) {
    problems.integer(
      'retention.maxAgeMs',
      value.maxAgeMs,
      MIN_CHAIN_RETENTION_AGE_MS,
      MAX_CHAIN_RETENTION_AGE_MS,
    );
  }
  checkOnlyFields(problems, 'retention', value, ['maxBytes', 'maxAgeMs']);
}

export function checkMaxRecordBytes(problems: InputProblems, value: unknown): void {
  problems.integer('maxRecordBytes', value, 1, MAX_CHAIN_RECORD_BYTES);
}

/** Names every field of `value` outside `allowed` (a typo would otherwise be ignored silently). */
export function checkOnlyFields(
  problems: InputProblems,
  subject: string,
  value: unknown,
  allowed: readonly string[],
): void {
  if (!isRecord(value)) return;
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) problems.add(`${subject} has an unknown field '${field}'`);
  }
}
