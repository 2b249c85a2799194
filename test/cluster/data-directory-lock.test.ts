/**
 * One process per data directory, with real `meshos` processes: a second `meshos start` or
 * `meshos join` on a directory in use exits with DATA_DIR_LOCKED naming the holder's pid and
 * leaves every file as it was; after kill -9 of the holder, a restart on the directory starts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import { parseClaimFileName } from '../../src/mesh/data-directory-lock.js';
import {
  exitCode,
  killAll,
  meshos,
  type Running,
  singleNodeStartArguments,
  UP_TIMEOUT_MS,
  waitForOutput,
} from './meshos-process.js';

/** Every file under `directory` with its size, modification time and content hash. */
async function fingerprint(directory: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file);
    const hash = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    result[path.relative(directory, file)] = `${info.size} ${info.mtimeMs} ${hash}`;
  }
  return result;
}

describe('one process per data directory', () => {
  const root: string[] = [];
  const started: Running[] = [];
  afterAll(async () => {
    await killAll(started);
    await Promise.all(root.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  it('refuses a second start and a join on a directory in use, and restarts after kill -9', async () => {
    const data = path.join(await mkdtemp(path.join(os.tmpdir(), 'meshos-dirlock-')), 'n1');
    root.push(path.dirname(data));
    const first = meshos(await singleNodeStartArguments(data));
    started.push(first);
    const up = await waitForOutput(first, /node 1 \(n1\) up: client (\S+),/, UP_TIMEOUT_MS);
    await waitForOutput(first, /leader is node 1/, UP_TIMEOUT_MS);
    const holderPid = first.child.pid!;

    // Frozen, the holder writes nothing: any change to the files would be the intruders'.
    first.child.kill('SIGSTOP');
    const before = await fingerprint(data);
    const second = meshos(await singleNodeStartArguments(data));
    started.push(second);
    expect(await exitCode(second, UP_TIMEOUT_MS)).toBe(1);
    expect(second.output()).toContain('DATA_DIR_LOCKED');
    expect(second.output()).toContain(`process ${holderPid}`);
    expect(second.output()).not.toContain('up:');

    const join = meshos([
      'join',
      '--via',
      up[1]!,
      '--data',
      data,
      '--peer-listen',
      `127.0.0.1:${await findFreeLoopbackPort()}`,
      '--client-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      '--insecure',
    ]);
    started.push(join);
    expect(await exitCode(join, UP_TIMEOUT_MS)).toBe(1);
    expect(join.output()).toContain('DATA_DIR_LOCKED');
    expect(join.output()).toContain(`process ${holderPid}`);
    expect(await fingerprint(data)).toEqual(before);
    first.child.kill('SIGCONT');

    // The refused join asked the cluster for nothing: still one member.
    const client = new Etcd3({ hosts: [up[1]!] });
    try {
      expect((await client.cluster.memberList({})).members).toHaveLength(1);
    } finally {
      client.close();
    }

    first.child.kill('SIGKILL');
    await first.exited;
    const claimsLeft = (await readdir(data)).filter((name) => parseClaimFileName(name) !== undefined);
    expect(claimsLeft.map((name) => parseClaimFileName(name)?.pid)).toEqual([holderPid]);

    const restarted = meshos(await singleNodeStartArguments(data));
    started.push(restarted);
    await waitForOutput(restarted, /node 1 \(n1\) up:/, UP_TIMEOUT_MS);
    await waitForOutput(restarted, /leader is node 1/, UP_TIMEOUT_MS);
    restarted.child.kill('SIGTERM');
    expect(await exitCode(restarted, UP_TIMEOUT_MS)).toBe(0);
    // A clean stop releases the lock: no claim is left behind.
    expect((await readdir(data)).filter((name) => parseClaimFileName(name) !== undefined)).toEqual([]);
  }, 90_000);

  it('of several processes racing for one directory exactly one holds it', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'meshos-lockrace-'));
    root.push(directory);
    const moduleUrl = pathToFileURL(path.resolve('dist/src/mesh/data-directory-lock.js')).href;
    // Each process tries once, says how it went, and holds what it got until stdin closes.
    const script = `
      const { DataDirectoryLock } = await import(${JSON.stringify(moduleUrl)});
      try {
        await DataDirectoryLock.acquire(${JSON.stringify(directory)});
        console.log('won');
      } catch (error) {
        console.log(error.code + ' ' + error.holderPid);
      }
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
    `;
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const answers = await Promise.all(
      children.map(
        (child) =>
          new Promise<string>((resolve) => {
            let text = '';
            child.stdout.on('data', (chunk: Buffer) => {
              text += chunk.toString('utf8');
              if (text.includes('\n')) resolve(text.trim());
            });
          }),
      ),
    );
    const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of children) child.stdin.end();
    await Promise.all(exits);
    const pids = children.map((child) => child.pid);
    expect(answers.filter((answer) => answer === 'won')).toHaveLength(1);
    for (const answer of answers.filter((item) => item !== 'won')) {
      const [code, pid] = answer.split(' ');
      expect(code).toBe('DATA_DIR_LOCKED');
      expect(pids).toContain(Number(pid));
    }
    expect((await readdir(directory)).filter((name) => parseClaimFileName(name) !== undefined)).toEqual([]);
  });
});
