/**
 * What appenders saw while faults happened, and the check of every replica's copy against it.
 *
 * The history file follows /work/shared/HISTORY_FORMAT.md where it fits: JSON Lines, one
 * operation each, `client`, `op`, `key`, `value`, `status` (`ok` / `fail` / `info`), `call_ts`,
 * `return_ts` (absent for `info`). A chain append is op `append` with `key` the chain's name, a
 * value never written before in the run, and, when acknowledged, the `offset` it was given.
 */

export type AppendStatus = 'ok' | 'fail' | 'info';

export interface ChainAppendOperation {
  readonly client: number;
  readonly chain: string;
  /** Unique in the run, e.g. `<client>-<counter>`. */
  readonly value: string;
  /** `ok`: acknowledged; `fail`: refused before it was proposed; `info`: outcome unknown. */
  readonly status: AppendStatus;
  /** The offset the acknowledgement named (`ok` only). */
  readonly offset?: number;
  /** Nanoseconds from the start of the run. */
  readonly callTs: number;
  readonly returnTs?: number;
}

/** One record of a replica's copy of the chain (data records only, in offset order). */
export interface ReplicaRecord {
  readonly offset: number;
  readonly value: string;
}

export function historyLines(operations: readonly ChainAppendOperation[]): string {
  return operations
    .map((operation) =>
      JSON.stringify({
        client: operation.client,
        op: 'append',
        key: operation.chain,
        value: operation.value,
        ...(operation.offset === undefined ? {} : { offset: operation.offset }),
        ...(operation.status === 'ok' ? {} : { status: operation.status }),
        call_ts: operation.callTs,
        ...(operation.returnTs === undefined ? {} : { return_ts: operation.returnTs }),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function describeRecord(record: ReplicaRecord | undefined): string {
  return record === undefined ? 'nothing' : `${record.value}@${record.offset}`;
}

/**
 * Every problem with the replicas' copies of `chain` given what its appenders saw (empty when
 * none): the copies are identical (one order), offsets only grow, each value is there at most
 * once, every value was appended by a client and not refused, and every acknowledged append is
 * there exactly once at the offset its acknowledgement named.
 */
export interface ReplicaCheckOptions {
  /**
   * Acknowledged appends allowed to be missing from the copies (acks `one`: those acknowledged in
   * an epoch whose leader later lost its place). Present, they must still be at their offset.
   */
  readonly mayBeLost?: (operation: ChainAppendOperation) => boolean;
  /**
   * Per copy, the first offset it holds (retention dropped what was below): records below it
   * are not expected there, and two copies are compared from the later of their starts.
   */
  readonly startOffsets?: ReadonlyMap<string, number>;
}

export function chainReplicaProblems(
  chain: string,
  operations: readonly ChainAppendOperation[],
  replicas: ReadonlyMap<string, readonly ReplicaRecord[]>,
  options: ReplicaCheckOptions = {},
): string[] {
  const startOf = (name: string): number => options.startOffsets?.get(name) ?? 0;
  const problems: string[] = [];
  const appended = new Map(
    operations
      .filter((operation) => operation.chain === chain)
      .map((operation) => [operation.value, operation]),
  );
  const copies = [...replicas];
  const [first] = copies;
  if (first === undefined) return [`${chain}: no replica to check`];
  const [firstName, firstRecords] = first;
  for (const [name, allRecords] of copies.slice(1)) {
    const from = Math.max(startOf(name), startOf(firstName));
    const records = allRecords.filter((record) => record.offset >= from);
    const theirRecords = firstRecords.filter((record) => record.offset >= from);
    const length = Math.max(records.length, theirRecords.length);
    for (let index = 0; index < length; index++) {
      const mine = records[index];
      const theirs = theirRecords[index];
      if (mine?.offset !== theirs?.offset || mine?.value !== theirs?.value) {
        problems.push(
          `${chain}: replica ${name} differs from ${firstName} at record ${index}: ${describeRecord(mine)} vs ${describeRecord(theirs)}`,
        );
        break;
      }
    }
  }
  for (const [name, records] of copies) {
    const seen = new Map<string, number>();
    let previousOffset = -1;
    for (const record of records) {
      if (record.offset <= previousOffset) {
        problems.push(`${chain}: replica ${name}: offset ${record.offset} after ${previousOffset}`);
      }
      previousOffset = record.offset;
      const earlier = seen.get(record.value);
      if (earlier !== undefined) {
        problems.push(`${chain}: replica ${name}: ${record.value} twice, at ${earlier} and ${record.offset}`);
      } else seen.set(record.value, record.offset);
      const operation = appended.get(record.value);
      if (operation === undefined)
        problems.push(`${chain}: replica ${name}: ${record.value} was never appended`);
      else if (operation.status === 'fail') {
        problems.push(`${chain}: replica ${name}: ${record.value} is there but its append was refused`);
      }
    }
    for (const operation of appended.values()) {
      if (operation.status !== 'ok') continue;
      const offset = seen.get(operation.value);
      if (offset === undefined && (operation.offset ?? 0) < startOf(name)) continue;
      if (offset === undefined && options.mayBeLost?.(operation) === true) continue;
      if (offset === undefined) {
        problems.push(
          `${chain}: replica ${name}: acknowledged ${operation.value}@${operation.offset} is lost`,
        );
      } else if (operation.offset !== undefined && offset !== operation.offset) {
        problems.push(
          `${chain}: replica ${name}: ${operation.value} at ${offset}, acknowledged at ${operation.offset}`,
        );
      }
    }
  }
  return problems;
}
