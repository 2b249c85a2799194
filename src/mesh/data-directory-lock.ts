import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { assert, MeshError } from '../lib/index.js';

/**
 * One process per data directory. Each process that wants the directory creates its own
 * claim file, `meshos.lock.<pid>.<start time>.<nonce>`, then lists the directory: it holds the
 * lock only if no other claim belongs to a live process. Two processes that race both create
 * before they list, so the later lister always sees the other's claim: at most one wins (both
 * may back off and retry). A claim whose process is gone (kill -9) is ignored and removed, so
 * there is no shared lock file to take over and no takeover race. A process is alive when it
 * exists, is not a zombie and, where /proc tells, started when the claim says (a reused pid
 * is not the holder).
 */

const CLAIM_PREFIX = 'meshos.lock.';
/** How often a process retries after colliding with another process's fresh claim. */
export const DATA_DIRECTORY_LOCK_ATTEMPTS = 5;
/** Upper bound of the random wait between those attempts. */
export const DATA_DIRECTORY_LOCK_RETRY_MAX_MS = 50;
/** Random bytes that tell apart two claims of one pid (a restart that got the old pid). */
const CLAIM_NONCE_BYTES = 8;

export class DataDirectoryLockedError extends MeshError {
  readonly holderPid: number;

  constructor(directory: string, holderPid: number, claimFile: string) {
    super(
      'DATA_DIR_LOCKED',
      `the data directory ${directory} is in use by process ${holderPid}; stop that process first (if it is not a MeshOS node, remove ${claimFile})`,
      { details: { directory, holderPid, claimFile } },
    );
    this.holderPid = holderPid;
  }
}

/** Who made a claim, read back from its file name. */
export interface Claim {
  readonly pid: number;
  /** The process's start time as /proc gives it; empty where unknown. */
  readonly startTime: string;
  readonly nonce: string;
}

export function claimFileName(claim: Claim): string {
  return `${CLAIM_PREFIX}${claim.pid}.${claim.startTime}.${claim.nonce}`;
}

/** The claim a file name records, or undefined for any other file. */
export function parseClaimFileName(name: string): Claim | undefined {
  if (!name.startsWith(CLAIM_PREFIX)) return undefined;
  const [pidText, startTime, nonce, ...rest] = name.slice(CLAIM_PREFIX.length).split('.');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || startTime === undefined || !nonce || rest.length > 0)
    return undefined;
  return { pid, startTime, nonce };
}

/** What the lock needs to know about processes; the system's by default, a fake in tests. */
export interface ProcessProbe {
  readonly ownPid: number;
  /** True when a process with this pid exists and is not a zombie. */
  isRunning(pid: number): boolean;
  /** The process's start time, or '' where the system does not say. */
  startTime(pid: number): string;
}

/**
 * Whether a claim belongs to a live process. Claims of this process are live only when this
 * process made them (`ownNonces`): after a restart the new process can get the old pid (pid 1
 * in a container).
 */
export function claimIsLive(claim: Claim, probe: ProcessProbe, ownNonces: ReadonlySet<string>): boolean {
  if (claim.pid === probe.ownPid) return ownNonces.has(claim.nonce);
  if (!probe.isRunning(claim.pid)) return false;
  const startTime = probe.startTime(claim.pid);
  return claim.startTime === '' || startTime === '' || startTime === claim.startTime;
}

/** Linux's /proc/<pid>/stat: state (field 3) and start time in clock ticks (field 22). */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

const systemProcessProbe: ProcessProbe = {
  ownPid: process.pid,
  isRunning(pid) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: it exists but belongs to another user.
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
    return procStat(pid)?.state !== 'Z';
  },
  startTime(pid) {
    return procStat(pid)?.startTime ?? '';
  },
};

/** Claims this process holds (or is making), by file path; removed at exit if still held. */
const ownClaims = new Map<string, string>();
let exitHookInstalled = false;

function ownNonces(): Set<string> {
  return new Set(ownClaims.values());
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const file of ownClaims.keys()) {
      try {
        unlinkSync(file);
      } catch {
        // Already gone: nothing to release.
      }
    }
  });
}

async function removeIfPresent(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

/** The first live claim other than `except`; dead claims found on the way are removed. */
async function findLiveClaim(
  directory: string,
  probe: ProcessProbe,
  except?: string,
): Promise<{ claim: Claim; file: string } | undefined> {
  for (const name of await fs.readdir(directory)) {
    const claim = parseClaimFileName(name);
    if (claim === undefined || name === except) continue;
    const file = path.join(directory, name);
    if (claimIsLive(claim, probe, ownNonces())) return { claim, file };
    await removeIfPresent(file);
  }
  return undefined;
}

/** A held data-directory lock; `release` gives it up (once; later calls do nothing). */
export class DataDirectoryLock {
  private released = false;

  private constructor(
    readonly directory: string,
    readonly file: string,
  ) {}

  /**
   * Takes the lock on `directory` (created if missing) before anything in it is read, or
   * fails with `DATA_DIR_LOCKED` naming the live holder's pid.
   */
  static async acquire(
    directory: string,
    probe: ProcessProbe = systemProcessProbe,
    wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ): Promise<DataDirectoryLock> {
    const absolute = path.resolve(directory);
    await fs.mkdir(absolute, { recursive: true });
    installExitHook();
    let rival: { claim: Claim; file: string } | undefined;
    for (let attempt = 0; attempt < DATA_DIRECTORY_LOCK_ATTEMPTS; attempt += 1) {
      if (attempt > 0) await wait(Math.random() * DATA_DIRECTORY_LOCK_RETRY_MAX_MS);
      // A live holder seen before claiming: refuse without writing anything.
      rival = await findLiveClaim(absolute, probe);
      if (rival !== undefined) {
        if (attempt === 0) break;
        continue;
      }
      const claim = {
        pid: probe.ownPid,
        startTime: probe.startTime(probe.ownPid),
        nonce: randomBytes(CLAIM_NONCE_BYTES).toString('hex'),
      };
      const name = claimFileName(claim);
      const file = path.join(absolute, name);
      ownClaims.set(file, claim.nonce);
      try {
        const content = JSON.stringify({ pid: claim.pid, since: new Date().toISOString() });
        await fs.writeFile(file, `${content}\n`, { flag: 'wx' });
        rival = await findLiveClaim(absolute, probe, name);
      } catch (error) {
        ownClaims.delete(file);
        await removeIfPresent(file);
        throw error;
      }
      if (rival === undefined) return new DataDirectoryLock(absolute, file);
      // Collided with another process's claim: step back and look again.
      ownClaims.delete(file);
      await removeIfPresent(file);
    }
    assert(rival !== undefined, 'every failed lock attempt has seen a live rival claim');
    throw new DataDirectoryLockedError(absolute, rival.claim.pid, rival.file);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    ownClaims.delete(this.file);
    await removeIfPresent(this.file);
  }
}
