import { describe, expect, it } from 'vitest';
import {
  coveredBy,
  type KeyInterval,
  mergeIntervals,
  permissionInterval,
  requestInterval,
} from '../../../src/auth/index.js';
import { resolveRange, utf8 } from '../../../src/kv/index.js';

/** Whether permissions (key, rangeEnd) cover the request (key, rangeEnd, prefix) as etcd would decide. */
function covers(
  permissions: readonly [string, string][],
  key: string,
  options: { rangeEnd?: string; prefix?: boolean } = {},
): boolean {
  const merged = mergeIntervals(permissions.map(([start, end]) => permissionInterval(start, end)));
  const range = resolveRange(
    utf8(key),
    options.rangeEnd === undefined ? undefined : utf8(options.rangeEnd),
    options.prefix,
  );
  return coveredBy(merged, requestInterval(range));
}

describe('permission key intervals', () => {
  it('a single-key permission covers that key and nothing else', () => {
    expect(covers([['app/x', '']], 'app/x')).toBe(true);
    expect(covers([['app/x', '']], 'app/x0')).toBe(false);
    expect(covers([['app/x', '']], 'app/')).toBe(false);
    expect(covers([['app/x', '']], 'app/x', { rangeEnd: 'app/y' })).toBe(false);
  });

  it('a prefix permission ([app/, app0)) covers keys and ranges inside it only', () => {
    const prefix: [string, string][] = [['app/', 'app0']];
    expect(covers(prefix, 'app/x')).toBe(true);
    expect(covers(prefix, 'app/', { prefix: true })).toBe(true);
    expect(covers(prefix, 'app/a', { rangeEnd: 'app/z' })).toBe(true);
    expect(covers(prefix, 'app0')).toBe(false);
    expect(covers(prefix, 'other/y')).toBe(false);
    expect(covers(prefix, 'ap', { prefix: true })).toBe(false);
    expect(covers(prefix, 'app/a', { rangeEnd: '\0' })).toBe(false);
  });

  it('a "from key" permission (range end \\0) covers every key after its key', () => {
    const fromKey: [string, string][] = [['m', '\0']];
    expect(covers(fromKey, 'zzz')).toBe(true);
    expect(covers(fromKey, 'm', { rangeEnd: '\0' })).toBe(true);
    expect(covers(fromKey, 'a')).toBe(false);
    expect(covers(fromKey, 'a', { rangeEnd: '\0' })).toBe(false);
  });

  it('adjacent and overlapping permissions cover a range none covers alone', () => {
    const pieces: [string, string][] = [
      ['a', 'c'],
      ['c', 'e'],
      ['d', 'g'],
    ];
    expect(covers(pieces, 'a', { rangeEnd: 'g' })).toBe(true);
    expect(covers(pieces, 'a', { rangeEnd: 'h' })).toBe(false);
    expect(
      covers(
        [
          ['a', 'c'],
          ['d', 'g'],
        ],
        'a',
        { rangeEnd: 'e' },
      ),
    ).toBe(false);
  });

  it('merging keeps the union and drops nothing', () => {
    const merged: KeyInterval[] = mergeIntervals([
      { start: 'k', end: null },
      { start: 'b', end: 'd' },
      { start: 'c', end: 'f' },
      { start: 'x', end: 'y' },
    ]);
    expect(merged).toEqual([
      { start: 'b', end: 'f' },
      { start: 'k', end: null },
    ]);
  });

  it('nothing is covered by no permission', () => {
    expect(covers([], 'a')).toBe(false);
  });
});
