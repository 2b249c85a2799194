/** One real `meshos` process (the built dist/), its output collected, for multi-process tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { fetchStatus } from '../../src/cli/admin-json.js';
import { findFreeLoopbackPort } from '../../src/lib/node/index.js';
import type { ServiceStatus } from '../../src/mesh/index.js';

const MAIN_SCRIPT = path.resolve('dist/src/cli/main.js');
/** Longest a single-node `meshos start` may take to be up and lead. */
export const UP_TIMEOUT_MS = 20_000;

export interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts `meshos args...`; `environment` adds variables to this process's own. */
export function meshos(args: readonly string[], environment: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [MAIN_SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MESHOS_LOG: 'warn', ...environment },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** Kills (SIGKILL) each process still running and waits until all have exited. */
export async function killAll(processes: readonly Running[]): Promise<void> {
  for (const running of processes) if (running.child.exitCode === null) running.child.kill('SIGKILL');
  await Promise.all(processes.map((running) => running.exited));
}

/** The exit code, failing (with the output) if the process is still running after `timeoutMs`. */
export async function exitCode(running: Running, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${timeoutMs} ms; output:\n${running.output()}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function waitForOutput(
  running: Running,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.output().match(pattern);
    if (match !== null) return match;
    if (Date.now() > deadline || running.child.exitCode !== null)
      throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `meshos start` of a one-node cluster (node 1) on `data`, plaintext, every port free. */
export async function singleNodeStartArguments(data: string): Promise<string[]> {
  return [
    'start',
    '--id',
    '1',
    '--data',
    data,
    '--peers',
    `1=127.0.0.1:${await findFreeLoopbackPort()}`,
    '--client-listen',
    '127.0.0.1:0',
    '--admin-listen',
    '127.0.0.1:0',
    '--insecure',
  ];
}

/** What the admin port at `admin` says in `/status` about the node's service `name`. */
export async function adminServiceStatus(admin: string, name: string): Promise<ServiceStatus | undefined> {
  const status = await fetchStatus(admin);
  return (status?.services as { services?: ServiceStatus[] } | undefined)?.services?.find(
    (entry) => entry.name === name,
  );
}

/** `meshos ARGS --endpoints ENDPOINT` to its end: its exit code and output (stdout and stderr). */
export async function runMeshos(
  args: readonly string[],
  endpoint: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  const running = meshos([...args, '--endpoints', endpoint]);
  const code = await exitCode(running, timeoutMs);
  return { code, output: running.output() };
}
