import { formatAddress } from '../lib/index.js';
import { createLogger } from '../lib/node/index.js';
import { WorkerNode, type WorkerNodeConfig } from '../mesh/index.js';
import {
  type CommandIo,
  EXIT_NODE_FAILED,
  faultsFromEnvironment,
  reportAbandonedServices,
  runUntilSignalled,
} from './node-commands.js';

/**
 * Runs one worker until SIGINT or SIGTERM, then stops it cleanly (its lease is revoked); exits
 * with 4 when a critical service failed.
 */
export async function runWorker(config: WorkerNodeConfig, io: CommandIo): Promise<number> {
  const logger = createLogger(`meshos-worker${config.name === undefined ? '' : `-${config.name}`}`);
  const faults = faultsFromEnvironment(io);
  const worker = await WorkerNode.start(config, { logger, ...(faults === undefined ? {} : { faults }) });
  io.out(
    `worker ${worker.id} (${worker.name}) up: client ${formatAddress(worker.endpoints.client)}, peer ${formatAddress(worker.endpoints.peer)}, admin http://${formatAddress(worker.endpoints.admin)}, control plane ${config.controlPlaneEndpoints.join(',')}`,
  );
  worker.onMembershipChange((change) => {
    if (change.type === 'join' || change.type === 'leave') {
      io.out(
        `node ${change.node.record.id} (${change.node.record.role}) ${change.type === 'join' ? 'joined' : 'left'}`,
      );
    }
  });
  const exit = await runUntilSignalled(
    (signal) => worker.run(signal),
    () => io.out(`worker ${worker.id} stopping`),
  );
  reportAbandonedServices(`worker ${worker.id}`, worker.abandonedServices(), io);
  if (exit === 'failed') {
    io.err(`worker ${worker.id} stopped: ${worker.failure()?.message ?? 'a critical service failed'}`);
    return EXIT_NODE_FAILED;
  }
  io.out(`worker ${worker.id} stopped`);
  return 0;
}
