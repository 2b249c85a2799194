import { blobOrphanGraceProblems } from '../blobs/index.js';
import { chainGracePeriodProblems, chainSegmentBytesProblems } from '../chains/index.js';
import { daemonRepairGraceProblems } from '../daemons/cluster-limits.js';
import { formatAddress } from '../lib/index.js';
import { clientPortTlsFilesProblems } from './client-tls-files.js';
import { checkpointEveryEventsProblems } from './daemon-member-checkpoints.js';
import type { CommonNodeConfig } from './node-parts.js';

/**
 * What is wrong with the settings voters and workers both have and check alike: their three
 * listeners, the chain and daemon repair grace periods, the blob orphan grace, the daemon
 * checkpoint interval and the chain segment size (empty when nothing).
 */
export function commonNodeConfigProblems(config: CommonNodeConfig): string[] {
  const problems: string[] = [];
  // Port 0 means "any free port", so only fixed ports can collide.
  const fixed = [config.peerAddress, config.clientAddress, config.adminAddress]
    .filter((address) => address.port !== 0)
    .map(formatAddress);
  if (new Set(fixed).size !== fixed.length) {
    problems.push(`peer, client and admin addresses must differ: ${fixed.join(', ')}`);
  }
  if (config.chainRepairGraceMs !== undefined)
    problems.push(...chainGracePeriodProblems(config.chainRepairGraceMs));
  if (config.daemonRepairGraceMs !== undefined)
    problems.push(...daemonRepairGraceProblems(config.daemonRepairGraceMs));
  if (config.blobOrphanGraceMs !== undefined)
    problems.push(...blobOrphanGraceProblems(config.blobOrphanGraceMs));
  if (config.daemonCheckpointEvents !== undefined)
    problems.push(...checkpointEveryEventsProblems(config.daemonCheckpointEvents));
  if (config.chainSegmentBytes !== undefined)
    problems.push(...chainSegmentBytesProblems(config.chainSegmentBytes));
  if (config.clientTls !== undefined) problems.push(...clientPortTlsFilesProblems(config.clientTls));
  return problems;
}
