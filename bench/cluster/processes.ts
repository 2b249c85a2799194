import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as path from 'node:path';

/** How long a process gets after SIGTERM before its group is killed. */
export const STOP_TIMEOUT_MS = 10_000;
/** Lines of output kept per process, for error messages. */
const KEPT_OUTPUT_LINES = 100;
/** Lines `collect` picked that are kept per process: the newest are dropped past it. */
const KEPT_COLLECTED_LINES = 10_000;

const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

/** Last resort: whatever is still running when the bench exits is killed with its group. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const managed of running) managed.killGroupNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const managed of running) managed.killGroupNow();
      process.exit(130);
    });
  }
}

/** A child started in its own process group, so that it and anything it spawns die together. */
export class ManagedProcess {
  readonly output: string[] = [];
  /** Whole output lines that `collect` picked, the first `KEPT_COLLECTED_LINES` (`output` keeps only the last chunks). */
  readonly collected: string[] = [];
  private partialLine = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** Resolves once the process exited and its output streams ended (everything it wrote was read). */
  readonly closed: Promise<void>;

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    environment: NodeJS.ProcessEnv = process.env,
    private readonly collect?: (line: string) => boolean,
  ) {
    installExitHook();
    this.child = spawn(command, [...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: environment,
    });
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (this.collect !== undefined) this.collectLines(text);
      this.output.push(text);
      if (this.output.length > KEPT_OUTPUT_LINES)
        this.output.splice(0, this.output.length - KEPT_OUTPUT_LINES);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    // For diagnostic runs (e.g. `--trace-gc` on the members): every process's whole output, appended to a file.
    const outputDirectory = process.env.MESHOS_BENCH_OUTPUT_DIR;
    if (outputDirectory !== undefined && outputDirectory !== '') {
      const file = createWriteStream(path.join(outputDirectory, `${label}.log`), { flags: 'a' });
      this.child.stdout?.pipe(file, { end: false });
      this.child.stderr?.pipe(file, { end: false });
      // Both pipes write to it, so neither ends it: it is closed once the process's output is.
      this.child.once('close', () => file.end());
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        running.delete(this);
        resolve();
      });
      this.child.once('error', (error) => {
        keep(Buffer.from(`spawn failed: ${error.message}`));
        running.delete(this);
        resolve();
      });
    });
    this.closed = new Promise((resolve) => {
      this.child.once('close', () => resolve());
      this.child.once('error', () => resolve());
    });
    running.add(this);
  }

  /** Keeps the whole lines of `text` (with what was left of the last chunk) that `collect` picks. */
  private collectLines(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (this.collected.length < KEPT_COLLECTED_LINES && this.collect?.(line) === true)
        this.collected.push(line);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit code once it exited by itself (null while it runs or when a signal ended it). */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGSTOP (`paused`) or SIGCONT of the whole group: a hung process whose sockets stay open. */
  setPaused(paused: boolean): void {
    this.signalGroup(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  killGroupNow(): void {
    this.signalGroup('SIGKILL');
  }

  /** kill -9 of the whole group; resolves once the process has exited. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.signalGroup('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL of the group if it has not exited in time. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (!this.alive) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    // Children the process left behind in its group.
    this.signalGroup('SIGKILL');
  }

  describe(): string {
    return `--- ${this.label}\n${this.output.join('').slice(-2_000)}`;
  }
}

export { findFreeLoopbackPort as freePort } from '../../src/lib/node/index.js';

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Kernel clock ticks per second for /proc times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export async function cpuTimeMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Every thread of a process summed, from /proc (Linux). */
export interface ThreadTotals {
  /** Time on a CPU (`schedstat`'s first field), µs. */
  readonly runMicroseconds: number;
  /** Times a thread went to sleep for something (a socket, a sync, a futex): wake-ups. */
  readonly voluntarySwitches: number;
  /** Times a thread was taken off a CPU while it could still run. */
  readonly involuntarySwitches: number;
}

const NANOSECONDS_PER_MICROSECOND = 1_000;

/** What every thread of process `pid` has run and switched so far (a thread gone meanwhile counts 0). */
export async function threadTotals(pid: number): Promise<ThreadTotals> {
  const { readdir, readFile } = await import('node:fs/promises');
  let runMicroseconds = 0;
  let voluntarySwitches = 0;
  let involuntarySwitches = 0;
  for (const thread of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const schedstat = await readFile(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').catch(() => '0');
    runMicroseconds += Number(schedstat.split(' ')[0]) / NANOSECONDS_PER_MICROSECOND;
    const status = await readFile(`/proc/${pid}/task/${thread}/status`, 'utf8').catch(() => '');
    voluntarySwitches += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return { runMicroseconds, voluntarySwitches, involuntarySwitches };
}
