import { assert } from '../lib/index.js';
import type { KeyId } from './key-table.js';

const INITIAL_CAPACITY = 1024;

/**
 * The store's change log: every change since the compact revision in (revision, sub-revision)
 * order, as two typed columns, the changed key's id and the change's revision (its record is the
 * key's record at that revision). Under saturation it holds a minute of changes or more; as two
 * JS arrays that was 4 MB of V8 heap (and the garbage of their growth) for every full collection
 * to walk, here it is ArrayBuffer memory the collector does not trace.
 */
export class ChangeLog {
  private keyIdColumn = new Int32Array(INITIAL_CAPACITY);
  private revisionColumn = new Float64Array(INITIAL_CAPACITY);
  /** Changes held. */
  length = 0;

  push(id: KeyId, revision: number): void {
    if (this.length === this.keyIdColumn.length) this.grow();
    this.keyIdColumn[this.length] = id;
    this.revisionColumn[this.length] = revision;
    this.length++;
  }

  /** Removes the last change (a rolled-back write). */
  pop(): void {
    assert(this.length > 0, 'change log: nothing to pop');
    this.length--;
  }

  keyIdAt(position: number): KeyId {
    return this.keyIdColumn[position] as KeyId;
  }

  setKeyIdAt(position: number, id: KeyId): void {
    this.keyIdColumn[position] = id;
  }

  revisionAt(position: number): number {
    return this.revisionColumn[position] as number;
  }

  /** Drops the first `count` changes: the rest move to the front. */
  dropFront(count: number): void {
    assert(count >= 0 && count <= this.length, 'change log: dropped more than it holds');
    this.keyIdColumn.copyWithin(0, count, this.length);
    this.revisionColumn.copyWithin(0, count, this.length);
    this.length -= count;
  }

  private grow(): void {
    const keyIds = new Int32Array(this.keyIdColumn.length * 2);
    keyIds.set(this.keyIdColumn);
    this.keyIdColumn = keyIds;
    const revisions = new Float64Array(this.revisionColumn.length * 2);
    revisions.set(this.revisionColumn);
    this.revisionColumn = revisions;
  }
}
