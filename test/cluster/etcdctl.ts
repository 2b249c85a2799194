/** `etcdctl` (v3 API) against a cluster's client endpoints, for multi-process tests. */
import { execFile } from 'node:child_process';

/** Longest one etcdctl run may take. */
export const ETCDCTL_TIMEOUT_MS = 20_000;

/** Runs `etcdctl --endpoints=... args`; answers its stdout, rejects with its stderr. */
export function etcdctl(endpoints: readonly string[], args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'etcdctl',
      [`--endpoints=${endpoints.join(',')}`, '--command-timeout=15s', ...args],
      { timeout: ETCDCTL_TIMEOUT_MS, env: { ...process.env, ETCDCTL_API: '3' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}
