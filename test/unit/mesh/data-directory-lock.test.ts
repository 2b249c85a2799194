import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMeshError } from '../../../src/lib/index.js';
import { claimFileName, claimIsLive, parseClaimFileName } from '../../../src/mesh/data-directory-lock.js';
import { DataDirectoryLock, DataDirectoryLockedError, type ProcessProbe } from '../../../src/mesh/index.js';

/** Processes as a test describes them: pid → start time of the running ones. */
function fakeProbe(ownPid: number, running: ReadonlyMap<number, string>): ProcessProbe {
  return {
    ownPid,
    isRunning: (pid) => pid === ownPid || running.has(pid),
    startTime: (pid) => (pid === ownPid ? 'own-start' : (running.get(pid) ?? '')),
  };
}

const noWait = async (): Promise<void> => {};

let directories: string[] = [];
async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-lock-'));
  directories.push(directory);
  return directory;
}
afterEach(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
  directories = [];
});

async function claimFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => parseClaimFileName(name) !== undefined);
}

describe('claimIsLive', () => {
  const probe = fakeProbe(100, new Map([[200, '5000']]));

  it('a running process with the recorded start time holds its claim', () => {
    expect(claimIsLive({ pid: 200, startTime: '5000', nonce: 'a' }, probe, new Set())).toBe(true);
  });

  it('a claim of a process that is gone is dead', () => {
    expect(claimIsLive({ pid: 300, startTime: '5000', nonce: 'a' }, probe, new Set())).toBe(false);
  });

  it('a reused pid (same pid, other start time) does not hold the old claim', () => {
    expect(claimIsLive({ pid: 200, startTime: '4000', nonce: 'a' }, probe, new Set())).toBe(false);
  });

  it('without a recorded start time, a running pid is taken as the holder', () => {
    expect(claimIsLive({ pid: 200, startTime: '', nonce: 'a' }, probe, new Set())).toBe(true);
  });

  it('a claim with this process pid is live only when this process made it', () => {
    expect(claimIsLive({ pid: 100, startTime: 'own-start', nonce: 'mine' }, probe, new Set(['mine']))).toBe(
      true,
    );
    expect(claimIsLive({ pid: 100, startTime: 'own-start', nonce: 'old' }, probe, new Set(['mine']))).toBe(
      false,
    );
  });
});

describe('claim file names', () => {
  it('round-trip, and other files are not claims', () => {
    const claim = { pid: 42, startTime: '123', nonce: 'abcdef' };
    expect(parseClaimFileName(claimFileName(claim))).toEqual(claim);
    expect(parseClaimFileName(claimFileName({ pid: 42, startTime: '', nonce: 'ab' }))).toEqual({
      pid: 42,
      startTime: '',
      nonce: 'ab',
    });
    for (const name of ['node.json', 'raft', 'meshos.lock.x.1.ab', 'meshos.lock.0.1.ab', 'meshos.lock.1.2']) {
      expect(parseClaimFileName(name), name).toBeUndefined();
    }
  });
});

describe('DataDirectoryLock', () => {
  it('creates a missing directory, refuses a second holder with its pid, and frees on release', async () => {
    const directory = path.join(await freshDirectory(), 'new', 'n1');
    const first = await DataDirectoryLock.acquire(directory);
    expect(existsSync(directory)).toBe(true);
    const refused = await DataDirectoryLock.acquire(directory).catch((error: unknown) => error);
    expect(isMeshError(refused, 'DATA_DIR_LOCKED')).toBe(true);
    expect((refused as DataDirectoryLockedError).holderPid).toBe(process.pid);
    expect((refused as Error).message).toContain(`process ${process.pid}`);
    await first.release();
    await first.release();
    expect(await claimFiles(directory)).toEqual([]);
    const second = await DataDirectoryLock.acquire(directory);
    await second.release();
  });

  it('refuses when another live process holds the directory, and writes nothing', async () => {
    const directory = await freshDirectory();
    const held = claimFileName({ pid: 200, startTime: '5000', nonce: 'feed' });
    await writeFile(path.join(directory, held), '');
    const probe = fakeProbe(100, new Map([[200, '5000']]));
    const refused = await DataDirectoryLock.acquire(directory, probe, noWait).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataDirectoryLockedError);
    expect((refused as DataDirectoryLockedError).holderPid).toBe(200);
    expect(await readdir(directory)).toEqual([held]);
  });

  it('ignores and removes claims of dead processes and of reused pids', async () => {
    const directory = await freshDirectory();
    const dead = claimFileName({ pid: 300, startTime: '5000', nonce: 'dead' });
    const reused = claimFileName({ pid: 200, startTime: '1', nonce: 'old' });
    const ownOldIncarnation = claimFileName({ pid: 100, startTime: 'x', nonce: 'old' });
    for (const name of [dead, reused, ownOldIncarnation]) await writeFile(path.join(directory, name), '');
    await writeFile(path.join(directory, 'node.json'), '{}');
    const probe = fakeProbe(100, new Map([[200, '5000']]));
    const lock = await DataDirectoryLock.acquire(directory, probe, noWait);
    const remaining = await readdir(directory);
    expect(remaining).toContain('node.json');
    expect(remaining).toHaveLength(2);
    expect(await claimFiles(directory)).toEqual([path.basename(lock.file)]);
    expect(parseClaimFileName(path.basename(lock.file))?.pid).toBe(100);
    await lock.release();
  });

  it('of many concurrent acquirers in one process exactly one wins', async () => {
    const directory = await freshDirectory();
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => DataDirectoryLock.acquire(directory)),
      );
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(isMeshError(outcome.reason, 'DATA_DIR_LOCKED')).toBe(true);
      }
      await (winners[0] as PromiseFulfilledResult<DataDirectoryLock>).value.release();
    }
  });
});
