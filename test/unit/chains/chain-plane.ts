/** An in-process control plane over a local KV backend, for the chains tests. */
import { ChainDirectory } from '../../../src/chains/index.js';
import { type ControlPlane, openControlPlane } from '../../../src/control/index.js';
import { ManualClock } from '../../../src/lib/index.js';
import { LocalKvBackend } from '../../support/local-kv-backend.js';

export interface ChainPlane {
  readonly clock: ManualClock;
  readonly backend: LocalKvBackend;
  readonly plane: ControlPlane;
  readonly directory: ChainDirectory;
  close(): Promise<void>;
}

export async function openChainPlane(): Promise<ChainPlane> {
  const clock = new ManualClock();
  const backend = new LocalKvBackend({ clock });
  const plane = await openControlPlane({ kind: 'in-process', backend, clock });
  return {
    clock,
    backend,
    plane,
    directory: new ChainDirectory(plane, { clock }),
    async close() {
      await plane.close();
      backend.close();
    },
  };
}
