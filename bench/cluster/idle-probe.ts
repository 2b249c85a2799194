import { fileURLToPath } from 'node:url';
import { ManagedProcess } from './processes.js';

/** The idle probe's figures over its life: 1 s windows, and those with a delay over 50 ms. */
export interface IdleProbeResult {
  readonly windows: number;
  /** Windows whose worst timer delay passed 50 ms. */
  readonly wallOver: number;
  /** Windows whose worst delay less the run-queue wait passed 50 ms (an idle process: ~none). */
  readonly ownOver: number;
  readonly wallMaxMs: number;
  readonly ownMaxMs: number;
  /** The probe's main thread's time waiting for a CPU over its life. */
  readonly runQueueWaitMs: number;
}

/**
 * A process that does nothing but time its own event loop beside the cluster under test: the
 * delays it sees are the machine's scheduling delay, the control for the members' figures.
 */
export class IdleProbe {
  private constructor(private readonly process: ManagedProcess) {}

  static start(): IdleProbe {
    const script = fileURLToPath(new URL('./idle-probe-process.js', import.meta.url));
    return new IdleProbe(new ManagedProcess('idle-probe', process.execPath, [script]));
  }

  /** Stops the probe; its last complete window line, or undefined if it printed none. */
  async stop(): Promise<IdleProbeResult | undefined> {
    const lines = this.process.output.join('').split('\n');
    await this.process.stop();
    for (const line of lines.reverse()) {
      if (!line.startsWith('{')) continue;
      try {
        return JSON.parse(line) as IdleProbeResult;
      } catch {
        // A line cut by the output buffer: the one before it is complete.
      }
    }
    return undefined;
  }
}
