/**
 * Each command of `meshos` by name, with a loader that imports only that command's module. The
 * entry point parses argv first and then loads the one command asked for, so `meshos kv get` does
 * not pay for the node's server code, nor `meshos version` for grpc and the protobuf loaders.
 */
import type { CommandIo } from './commands/common.js';

/** `meshos help`: every command in a line, written here so printing it loads no command. */
export const MESHOS_USAGE = `usage: meshos <command> [options]

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

/** A command once its module is loaded: what `--help` prints and what runs it. */
export interface LoadedCommand {
  readonly usage: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

export type CommandLoader = () => Promise<LoadedCommand>;

/** A loader that imports `load`'s module when called and picks the command out of it. */
function lazily<Module>(load: () => Promise<Module>, pick: (module: Module) => LoadedCommand): CommandLoader {
  return async () => pick(await load());
}

async function startCommand(): Promise<LoadedCommand> {
  const [nodeCommands, workerCommand] = await Promise.all([
    import('./node-commands.js'),
    import('./worker-command.js'),
  ]);
  return {
    usage: nodeCommands.START_USAGE,
    async run(argv, io) {
      const plan = nodeCommands.startPlanFromArguments(argv);
      if (!(await nodeCommands.daemonModulesLoad(plan.config.daemonModules, io))) {
        return nodeCommands.EXIT_DAEMON_MODULE_FAILED;
      }
      return plan.role === 'voter'
        ? nodeCommands.runNode(plan.config, io)
        : workerCommand.runWorker(plan.config, io);
    },
  };
}

export const COMMAND_LOADERS: ReadonlyMap<string, CommandLoader> = new Map<string, CommandLoader>([
  [
    'start-local',
    lazily(
      () => import('./local-cluster.js'),
      (m) => ({ usage: m.START_LOCAL_USAGE, run: m.startLocalCluster }),
    ),
  ],
  ['start', startCommand],
  [
    'join',
    lazily(
      () => import('./join-command.js'),
      (m) => ({ usage: m.JOIN_USAGE, run: m.joinCommand }),
    ),
  ],
  [
    'certs',
    lazily(
      () => import('./node-commands.js'),
      (m) => ({ usage: m.CERTS_USAGE, run: m.certsCommand }),
    ),
  ],
  [
    'kv',
    lazily(
      () => import('./commands/kv.js'),
      (m) => ({ usage: m.KV_USAGE, run: m.kvCommand }),
    ),
  ],
  [
    'chain',
    lazily(
      () => import('./commands/chain.js'),
      (m) => ({ usage: m.CHAIN_USAGE, run: m.chainCommand }),
    ),
  ],
  [
    'daemon',
    lazily(
      () => import('./commands/daemon.js'),
      (m) => ({ usage: m.DAEMON_USAGE, run: m.daemonCommand }),
    ),
  ],
  [
    'demo',
    lazily(
      () => import('./commands/demo.js'),
      (m) => ({ usage: m.DEMO_USAGE, run: m.demoCommand }),
    ),
  ],
  [
    'blob',
    lazily(
      () => import('./commands/blob.js'),
      (m) => ({ usage: m.BLOB_USAGE, run: m.blobCommand }),
    ),
  ],
  [
    'member',
    lazily(
      () => import('./commands/member.js'),
      (m) => ({ usage: m.MEMBER_USAGE, run: m.memberCommand }),
    ),
  ],
  [
    'nodes',
    lazily(
      () => import('./commands/nodes.js'),
      (m) => ({ usage: m.NODES_USAGE, run: m.nodesCommand }),
    ),
  ],
  [
    'node',
    lazily(
      () => import('./commands/node.js'),
      (m) => ({ usage: m.NODE_USAGE, run: m.nodeCommand }),
    ),
  ],
  [
    'mesh',
    lazily(
      () => import('./commands/mesh.js'),
      (m) => ({ usage: m.MESH_USAGE, run: m.meshCommand }),
    ),
  ],
  [
    'audit',
    lazily(
      () => import('./commands/audit.js'),
      (m) => ({ usage: m.AUDIT_USAGE, run: m.auditCommand }),
    ),
  ],
  [
    'actions',
    lazily(
      () => import('./commands/audit.js'),
      (m) => ({ usage: m.ACTIONS_USAGE, run: m.actionsCommand }),
    ),
  ],
  [
    'status',
    lazily(
      () => import('./commands/status.js'),
      (m) => ({ usage: m.STATUS_USAGE, run: m.statusCommand }),
    ),
  ],
  [
    'snapshot',
    lazily(
      () => import('./commands/snapshot.js'),
      (m) => ({ usage: m.SNAPSHOT_USAGE, run: m.snapshotCommand }),
    ),
  ],
  [
    'auth',
    lazily(
      () => import('./commands/auth.js'),
      (m) => ({ usage: m.AUTH_USAGE, run: m.authCommand }),
    ),
  ],
  [
    'user',
    lazily(
      () => import('./commands/user.js'),
      (m) => ({ usage: m.USER_USAGE, run: m.userCommand }),
    ),
  ],
  [
    'role',
    lazily(
      () => import('./commands/role.js'),
      (m) => ({ usage: m.ROLE_USAGE, run: m.roleCommand }),
    ),
  ],
]);
