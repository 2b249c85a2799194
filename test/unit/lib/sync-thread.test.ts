import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncThread } from '../../../src/lib/node/sync-thread.js';

const run = promisify(execFile);

/** Runs a sync to its end, whether it finished within the wait or was left as a promise. */
async function syncToEnd(thread: SyncThread, fileDescriptor: number, waitMs: number): Promise<void> {
  const rest = thread.sync(fileDescriptor, waitMs);
  if (rest !== undefined) {
    expect(thread.busy).toBe(true);
    await rest;
  }
}

describe('SyncThread', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('syncs a file whether the caller waits for it or leaves it as a promise, one sync at a time', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-sync-thread-'));
    const filePath = path.join(directory, 'log');
    const fileDescriptor = openSync(filePath, 'w');
    const thread = new SyncThread();
    try {
      writeSync(fileDescriptor, 'first ');
      await syncToEnd(thread, fileDescriptor, 1_000);
      expect(thread.busy).toBe(false);
      writeSync(fileDescriptor, 'second');
      await syncToEnd(thread, fileDescriptor, 0);
      expect(thread.busy).toBe(false);
    } finally {
      closeSync(fileDescriptor);
    }
    expect(await readFile(filePath, 'utf8')).toBe('first second');
  });

  it("reports a failed fdatasync with the system's error code, waited for or not", async () => {
    // Far above any descriptor this process holds.
    const fileDescriptor = 1_000_000;
    const thread = new SyncThread();
    for (const waitMs of [1_000, 0]) {
      const failure = await syncToEnd(thread, fileDescriptor, waitMs).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ name: 'SyncThreadError', code: 'EBADF' });
      expect(thread.busy).toBe(false);
    }
  });

  it('lets the process exit while idle, and keeps it alive until a sync left as a promise ends', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-sync-thread-'));
    const moduleUrl = new URL('../../../dist/src/lib/node/sync-thread.js', import.meta.url).href;
    const script = `
      import { openSync, writeSync } from 'node:fs';
      import { SyncThread } from ${JSON.stringify(moduleUrl)};
      const thread = new SyncThread();
      const fd = openSync(${JSON.stringify(path.join(directory, 'log'))}, 'w');
      writeSync(fd, 'data');
      const rest = thread.sync(fd, 0);
      if (rest === undefined) console.log('synced within the wait');
      else rest.then(() => console.log('synced after the wait'));
    `;
    // A hang here (the thread keeping the process alive) fails by the test's own timeout.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toMatch(/^synced (within|after) the wait$/);
  });
});
