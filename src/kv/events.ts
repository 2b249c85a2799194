import { binaryToBytes, copyBytes } from './bytes.js';
import type { KeyRecord } from './mvcc.js';
import type { KeyValue } from './types.js';

const EMPTY = new Uint8Array(0);

export function recordToKeyValue(record: KeyRecord, keysOnly = false): KeyValue {
  return {
    key: binaryToBytes(record.key),
    // A copy: the record's value is a view of the store's memory, which callers must not pin.
    value: keysOnly || record.value === null ? EMPTY : copyBytes(record.value),
    createRevision: record.createRevision,
    modRevision: record.modRevision,
    version: record.version,
    lease: record.lease,
  };
}

export type KvEventType = 'put' | 'delete';

/**
 * One change produced by an apply, for watchers. The byte forms are built on first use and shared,
 * so an apply nobody watches allocates nothing for its events.
 */
export class KvEvent {
  readonly type: KvEventType;
  private keyValue: KeyValue | undefined;
  private previousKeyValue: KeyValue | undefined;

  constructor(
    readonly record: KeyRecord,
    readonly previous: KeyRecord | undefined,
  ) {
    this.type = record.value === null ? 'delete' : 'put';
  }

  get revision(): number {
    return this.record.modRevision;
  }

  /** The key (binary string) the event is about. */
  get key(): string {
    return this.record.key;
  }

  get kv(): KeyValue {
    this.keyValue ??= recordToKeyValue(this.record);
    return this.keyValue;
  }

  get prevKv(): KeyValue | undefined {
    if (this.previous === undefined) return undefined;
    this.previousKeyValue ??= recordToKeyValue(this.previous);
    return this.previousKeyValue;
  }
}
