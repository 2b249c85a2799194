#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from './capabilities.js';
import { UsageError } from './commands/common.js';
import {
  ACTIONS_USAGE,
  AUDIT_USAGE,
  AUTH_USAGE,
  actionsCommand,
  auditCommand,
  authCommand,
  BLOB_USAGE,
  blobCommand,
  CHAIN_USAGE,
  chainCommand,
  DAEMON_USAGE,
  DEMO_USAGE,
  daemonCommand,
  demoCommand,
  KV_USAGE,
  kvCommand,
  MEMBER_USAGE,
  MESH_USAGE,
  memberCommand,
  meshCommand,
  NODE_USAGE,
  NODES_USAGE,
  nodeCommand,
  nodesCommand,
  ROLE_USAGE,
  roleCommand,
  SNAPSHOT_USAGE,
  STATUS_USAGE,
  snapshotCommand,
  statusCommand,
  USER_USAGE,
  userCommand,
} from './commands/index.js';
import { JOIN_USAGE, joinCommand } from './join-command.js';
import {
  DEBUG_HANDLES_ENVIRONMENT_VARIABLE,
  describeLingeringHandles,
  EXIT_AFTER_RETURN_MS,
  EXIT_GUARD_MESSAGE,
  trackHandlesWhenAsked,
} from './lingering-handles.js';
import { START_LOCAL_USAGE, startLocalCluster } from './local-cluster.js';
import {
  CERTS_USAGE,
  type CommandIo,
  certsCommand,
  daemonModulesLoad,
  describeError,
  EXIT_DAEMON_MODULE_FAILED,
  runNode,
  START_USAGE,
  startPlanFromArguments,
} from './node-commands.js';
import { FlagError } from './role-flags.js';
import { runWorker } from './worker-command.js';

const USAGE = `usage: meshos <command> [options]

commands:
  start-local   run a local 3-node cluster on loopback (what \`npm start\` runs)
  start         run one node (see meshos start --help)
  join          run one node that joins an existing cluster as a learner
  certs         create the cluster CA, node and client certificates
  kv            get, put, del, watch, txn (meshos kv --help)
  chain         replicated chains: create, append, read, tail, status, list, delete
  daemon        daemons on the cluster: deploy, list, status, send, state, outputs, move, remove
  demo failover kill the counter's active node of the \`npm start\` cluster; gap and lost events
  blob          content-addressed blobs: put, get, status, list, delete
  member        list, add, remove, promote
  nodes         the mesh's registered nodes: role, zone, health, lease left
  node          drain NODE, maintenance enter|exit|status NODE
  mesh rtt      the mesh's RTT matrix: each node's smoothed RTT to and health of its peers
  audit         the reconciler's hash-linked audit chain: list, --follow, verify
  actions       each action the reconciler emitted: pending, in flight, done, failed; queue latency
  status        leader, term, indexes and lag of each endpoint; --admin: each node's services
  snapshot      save FILE, status FILE, restore FILE --data DIR ...: backup and restore
  auth          enable, disable, status: etcd's authentication (docs/SECURITY.md)
  user          add, delete, get, list, passwd, grant-role, revoke-role
  role          add, delete, get, list, grant-permission, revoke-permission
  capabilities  list what this build contains
  version       print the version
  help          show this text`;

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return packageJson.version;
}

function printCapabilities(io: CommandIo): void {
  const width = Math.max(...CAPABILITIES.map((capability) => capability.area.length));
  for (const capability of CAPABILITIES) {
    io.out(`  ${capability.area.padEnd(width)}  ${capability.status.padEnd(11)}  ${capability.summary}`);
  }
}

async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [command = 'help', ...rest] = argv;
  if (rest.includes('--help')) {
    const usages: Record<string, string> = {
      certs: CERTS_USAGE,
      start: START_USAGE,
      'start-local': START_LOCAL_USAGE,
      join: JOIN_USAGE,
      kv: KV_USAGE,
      chain: CHAIN_USAGE,
      daemon: DAEMON_USAGE,
      demo: DEMO_USAGE,
      blob: BLOB_USAGE,
      member: MEMBER_USAGE,
      nodes: NODES_USAGE,
      node: NODE_USAGE,
      mesh: MESH_USAGE,
      audit: AUDIT_USAGE,
      actions: ACTIONS_USAGE,
      status: STATUS_USAGE,
      snapshot: SNAPSHOT_USAGE,
      auth: AUTH_USAGE,
      user: USER_USAGE,
      role: ROLE_USAGE,
    };
    io.out(usages[command] ?? USAGE);
    return 0;
  }
  switch (command) {
    case 'start-local':
      return startLocalCluster(rest, io);
    case 'start': {
      const plan = startPlanFromArguments(rest);
      if (!(await daemonModulesLoad(plan.config.daemonModules, io))) return EXIT_DAEMON_MODULE_FAILED;
      return plan.role === 'voter' ? runNode(plan.config, io) : runWorker(plan.config, io);
    }
    case 'join':
      return joinCommand(rest, io);
    case 'certs':
      return certsCommand(rest, io);
    case 'kv':
      return kvCommand(rest, io);
    case 'chain':
      return chainCommand(rest, io);
    case 'daemon':
      return daemonCommand(rest, io);
    case 'demo':
      return demoCommand(rest, io);
    case 'blob':
      return blobCommand(rest, io);
    case 'member':
      return memberCommand(rest, io);
    case 'nodes':
      return nodesCommand(rest, io);
    case 'node':
      return nodeCommand(rest, io);
    case 'mesh':
      return meshCommand(rest, io);
    case 'audit':
      return auditCommand(rest, io);
    case 'actions':
      return actionsCommand(rest, io);
    case 'status':
      return statusCommand(rest, io);
    case 'snapshot':
      return snapshotCommand(rest, io);
    case 'auth':
      return authCommand(rest, io);
    case 'user':
      return userCommand(rest, io);
    case 'role':
      return roleCommand(rest, io);
    case 'capabilities':
      printCapabilities(io);
      return 0;
    case 'version':
      io.out(version());
      return 0;
    case 'help':
      io.out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n${USAGE}`);
  }
}

/**
 * grpc-js hands Node an IP endpoint as the TLS server name, which Node answers with a deprecation
 * warning (DEP0123) on the first TLS call to an address such as 127.0.0.1: nothing the command's
 * user can act on, so the CLI leaves it out; every other warning is printed as before.
 */
function leaveOutIpServerNameWarning(): void {
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const given = typeof typeOrOptions === 'object' ? (typeOrOptions as { code?: unknown }).code : code;
    if (given === 'DEP0123') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

trackHandlesWhenAsked();
leaveOutIpServerNameWarning();
const io: CommandIo = { out: (line) => console.log(line), err: (line) => console.error(line) };
try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (error) {
  if (
    error instanceof UsageError ||
    error instanceof FlagError ||
    (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  ) {
    io.err(`meshos: ${(error as Error).message}`);
    process.exitCode = 2;
  } else {
    io.err(`meshos: ${describeError(error)}`);
    process.exitCode = 1;
  }
}

if (process.env[DEBUG_HANDLES_ENVIRONMENT_VARIABLE] === '1') {
  // What is left the moment the command returned, then each second: what ends late, and when.
  setImmediate(() => io.err(`meshos: the command ended; still open: ${describeLingeringHandles()}`));
  setInterval(() => io.err(`meshos: still open: ${describeLingeringHandles()}`), 1_000).unref();
  const endedAtMs = performance.now();
  process.once('exit', () =>
    io.err(`meshos: exiting ${Math.round(performance.now() - endedAtMs)} ms after the command ended`),
  );
}

/**
 * A command that has returned has finished its work (a node has said "stopped" after closing its
 * parts). If something still holds the event loop this long after, name it on stderr, so the leak
 * can be found, and exit rather than linger as a process that looks alive. Unref'd: a process
 * whose loop drains exits before it fires.
 */
setTimeout(() => {
  io.err(`${EXIT_GUARD_MESSAGE}, held by: ${describeLingeringHandles()}; exiting`);
  process.exit();
}, EXIT_AFTER_RETURN_MS).unref();
