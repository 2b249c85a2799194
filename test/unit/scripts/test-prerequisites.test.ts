import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isOnPath,
  planPrerequisites,
  TEST_PREREQUISITES,
  type TestPrerequisite,
} from '../../../scripts/test-prerequisites.js';

const TABLE: readonly TestPrerequisite[] = [
  { command: 'etcdctl', debianPackage: 'etcd-client', neededBy: 'conformance' },
  { command: 'etcd', debianPackage: 'etcd-server', neededBy: 'side by side' },
  { command: 'openssl', debianPackage: 'openssl', neededBy: 'certificates' },
  { command: 'etcdutl', debianPackage: 'etcd-client', neededBy: 'snapshots' },
];

const present =
  (...commands: string[]) =>
  (command: string): boolean =>
    commands.includes(command);

describe('test prerequisites', () => {
  it('the table names etcdctl, etcd, openssl and chromium with their Debian packages', () => {
    expect(TEST_PREREQUISITES.map((item) => [item.command, item.debianPackage])).toEqual(
      expect.arrayContaining([
        ['etcdctl', 'etcd-client'],
        ['etcd', 'etcd-server'],
        ['openssl', 'openssl'],
        ['chromium', 'chromium'],
      ]),
    );
  });

  it('does nothing when every command is present, whoever runs it', () => {
    const all = present('etcdctl', 'etcd', 'openssl', 'etcdutl');
    expect(planPrerequisites(TABLE, all, 0)).toEqual({ action: 'ready' });
    expect(planPrerequisites(TABLE, all, 1000)).toEqual({ action: 'ready' });
  });

  it('as root, installs only the packages of the missing commands, each once', () => {
    expect(planPrerequisites(TABLE, present('openssl'), 0)).toEqual({
      action: 'install',
      packages: ['etcd-client', 'etcd-server'],
    });
  });

  it('as another user, refuses with one message naming every missing command and package', () => {
    const plan = planPrerequisites(TABLE, present('etcd', 'etcdutl'), 1000);
    expect(plan.action).toBe('refuse');
    if (plan.action !== 'refuse') return;
    expect(plan.packages).toEqual(['etcd-client', 'openssl']);
    expect(plan.message).toContain('etcdctl (Debian package etcd-client)');
    expect(plan.message).toContain('openssl (Debian package openssl)');
    expect(plan.message).toContain('apt-get install -y etcd-client openssl');
    expect(plan.message).not.toContain('etcd-server');
  });

  it('refuses when the user id is unknown (no getuid on this platform)', () => {
    expect(planPrerequisites(TABLE, present(), undefined).action).toBe('refuse');
  });
});

describe('isOnPath', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'meshos-path-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('finds an executable file in a PATH directory and ignores non-executable ones', () => {
    writeFileSync(path.join(directory, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(directory, 'tool'), 0o755);
    writeFileSync(path.join(directory, 'data'), 'not a program');
    chmodSync(path.join(directory, 'data'), 0o644);
    const searchPath = ['/nonexistent-meshos-dir', directory].join(path.delimiter);
    expect(isOnPath('tool', searchPath)).toBe(true);
    expect(isOnPath('data', searchPath)).toBe(false);
    expect(isOnPath('absent', searchPath)).toBe(false);
    expect(isOnPath('tool', '')).toBe(false);
  });
});
