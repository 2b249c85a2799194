import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { runToExit } from '../harness.js';
import { formatSummary, type ProfileWindow, summarizeProfileFile } from './cpu-profile-summary.js';
import { describeLoad, timedLoad } from './load.js';
import { clusterOptionsFromEnvironment, MeshosCluster } from './meshos-cluster.js';

/**
 * `node dist/bench/cluster/profile.js [seconds] [warm-up seconds]`: a 3-node MeshOS cluster with every node under
 * `node --cpu-prof`, a 64-client put load, then a self-time summary of the leader's profile and
 * the followers', counting only samples taken during the load. The profiles stay in the
 * printed directory for a closer look.
 */
const PROFILE_LOAD_CLIENTS = Number(process.env.MESHOS_PROFILE_CLIENTS ?? 64);
const DEFAULT_PROFILE_SECONDS = 20;
const CLUSTER_TIMEOUT_MS = 30_000;

async function profileFile(directory: string): Promise<string | undefined> {
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) =>
    name.endsWith('.cpuprofile'),
  );
  return names[0] === undefined ? undefined : path.join(directory, names[0]);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? DEFAULT_PROFILE_SECONDS);
  const warmupSeconds = Number(process.argv[3] ?? 0);
  let profileRoot = '';
  const cluster = await MeshosCluster.create({
    ...clusterOptionsFromEnvironment(),
    nodeFlags: (index) => ['--cpu-prof', '--cpu-prof-dir', path.join(profileRoot, `n${index + 1}`)],
  });
  profileRoot = path.join(cluster.root, 'profiles');
  let leader = -1;
  let window: ProfileWindow | undefined;
  try {
    await cluster.start(CLUSTER_TIMEOUT_MS);
    leader = await cluster.leaderIndex(CLUSTER_TIMEOUT_MS);
    if (warmupSeconds > 0) {
      // Profile the steady state, after the JIT has compiled the hot paths.
      await timedLoad(cluster.endpoints, 'put', PROFILE_LOAD_CLIENTS, warmupSeconds * 1000);
    }
    const fromMicroseconds = Number(process.hrtime.bigint() / 1000n);
    const result = await timedLoad(cluster.endpoints, 'put', PROFILE_LOAD_CLIENTS, seconds * 1000);
    window = { fromMicroseconds, toMicroseconds: Number(process.hrtime.bigint() / 1000n) };
    console.log(`load under profiling: ${describeLoad(result)}; leader n${leader + 1}`);
  } finally {
    // A clean stop lets each node write its profile on exit; keep the data directory for them.
    await cluster.stop(true);
  }
  for (let index = 0; index < cluster.endpoints.length; index++) {
    const file = await profileFile(path.join(profileRoot, `n${index + 1}`));
    if (file === undefined) {
      console.log(`n${index + 1}: no profile written`);
      continue;
    }
    const role = index === leader ? 'leader' : 'follower';
    const title = `n${index + 1} (${role}) during the load — ${file}`;
    console.log(formatSummary(title, await summarizeProfileFile(file, 25, window)));
  }
}

runToExit(main);
