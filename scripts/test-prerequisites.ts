/**
 * Runs before `npm test`: makes sure the system commands the test suites drive are on the
 * PATH. Missing ones are installed with apt-get when running as root (a fresh CI machine);
 * otherwise the run stops at once with one message naming the Debian packages to install,
 * instead of failing tests one by one later.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestPrerequisite {
  /** The command a suite runs. */
  readonly command: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** Which suites need it, for the message. */
  readonly neededBy: string;
}

/** Every system command the test suites need; a suite that needs another adds a line here. */
export const TEST_PREREQUISITES: readonly TestPrerequisite[] = [
  { command: 'etcdctl', debianPackage: 'etcd-client', neededBy: 'etcd API conformance (test/conformance)' },
  {
    command: 'etcd',
    debianPackage: 'etcd-server',
    neededBy: 'control-plane conformance on a real etcd 3.4 cluster (test/conformance/control-plane)',
  },
  { command: 'openssl', debianPackage: 'openssl', neededBy: 'node certificates (multi-process tests)' },
  { command: 'chromium', debianPackage: 'chromium', neededBy: 'the Deck in a headless browser (test/deck)' },
];

const ROOT_UID = 0;

export type PrerequisitePlan =
  | { readonly action: 'ready' }
  | { readonly action: 'install'; readonly packages: readonly string[] }
  | { readonly action: 'refuse'; readonly packages: readonly string[]; readonly message: string };

/** What to do given which commands are present and who runs the tests; no IO. */
export function planPrerequisites(
  prerequisites: readonly TestPrerequisite[],
  isPresent: (command: string) => boolean,
  uid: number | undefined,
): PrerequisitePlan {
  const missing = prerequisites.filter((item) => !isPresent(item.command));
  if (missing.length === 0) return { action: 'ready' };
  const packages = [...new Set(missing.map((item) => item.debianPackage))];
  if (uid === ROOT_UID) return { action: 'install', packages };
  const lines = missing.map(
    (item) => `  ${item.command} (Debian package ${item.debianPackage}): ${item.neededBy}`,
  );
  return {
    action: 'refuse',
    packages,
    message: [
      'npm test needs these commands, which are not on the PATH:',
      ...lines,
      `Install them first: sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`,
      '(run as root, npm test installs them itself)',
    ].join('\n'),
  };
}

/** True when `command` is an executable file in one of the PATH's directories. */
export function isOnPath(command: string, searchPath = process.env.PATH ?? ''): boolean {
  return searchPath
    .split(path.delimiter)
    .filter((directory) => directory.length > 0)
    .some((directory) => {
      try {
        accessSync(path.join(directory, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function aptGet(args: readonly string[]): void {
  const result = spawnSync('apt-get', [...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(`apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

/** Checks, installs when allowed, and checks again; returns the process exit code. */
export function ensureTestPrerequisites(log: (line: string) => void): number {
  const plan = planPrerequisites(TEST_PREREQUISITES, (command) => isOnPath(command), process.getuid?.());
  if (plan.action === 'ready') return 0;
  if (plan.action === 'refuse') {
    log(plan.message);
    return 1;
  }
  log(`installing test prerequisites: ${plan.packages.join(' ')}`);
  try {
    aptGet(['update', '-qq']);
    aptGet(['install', '-y', '-qq', '--no-upgrade', ...plan.packages]);
  } catch (error) {
    log((error as Error).message);
    return 1;
  }
  const stillMissing = TEST_PREREQUISITES.filter((item) => !isOnPath(item.command));
  if (stillMissing.length > 0) {
    log(`still missing after apt-get install: ${stillMissing.map((item) => item.command).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = ensureTestPrerequisites((line) => console.error(line));
}
