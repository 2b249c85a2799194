import { describe, expect, it } from 'vitest';
import { MemberDirectory, type MemberRecord } from '../../../src/server/member-directory.js';

const member = (id: number): MemberRecord => ({
  id,
  name: `n${id}`,
  peerUrls: [`http://127.0.0.1:${7000 + id}`],
  clientUrls: [],
});

describe('member directory', () => {
  it('remembers removed ids, so they are never handed out again and survive a snapshot', () => {
    const directory = new MemberDirectory();
    for (const id of [1, 2, 3, 4]) directory.set(member(id));
    directory.remove(4);
    expect(directory.get(4)).toBeUndefined();
    expect(directory.isRemoved(4)).toBe(true);
    expect(directory.isRemoved(3)).toBe(false);
    expect(directory.highestId()).toBe(4);

    const restored = new MemberDirectory();
    restored.restore(directory.snapshot());
    expect(restored.all()).toEqual(directory.all());
    expect(restored.isRemoved(4)).toBe(true);
    expect(restored.highestId()).toBe(4);
  });

  it('restores a snapshot written before removed ids were kept (a bare member list)', () => {
    const directory = new MemberDirectory();
    directory.restore(JSON.stringify([member(1), member(2)]));
    expect(directory.all().map((record) => record.id)).toEqual([1, 2]);
    expect(directory.isRemoved(1)).toBe(false);
    expect(directory.highestId()).toBe(2);
  });
});
