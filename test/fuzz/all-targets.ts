/** Every fuzzed decoder, grouped by where its bytes come from. */
import type { FuzzTarget } from './support/fuzz-target.js';
import { configTargets } from './targets/config-targets.js';
import { crashTargets } from './targets/crash-targets.js';
import { diskTargets } from './targets/disk-targets.js';
import { grpcTargets } from './targets/grpc-targets.js';
import { peerTargets } from './targets/peer-targets.js';
import { stateTargets } from './targets/state-targets.js';

// biome-ignore lint/suspicious/noExplicitAny: targets of every input type
export const allTargets: readonly FuzzTarget<any>[] = [
  ...peerTargets,
  ...stateTargets,
  ...diskTargets,
  ...crashTargets,
  ...configTargets,
  ...grpcTargets,
];
