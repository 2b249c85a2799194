import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MachineStall } from './machine-stalls.js';
import { ManagedProcess } from './processes.js';

/** The idle probe's figures over its life: 1 s windows, and those with a delay over 50 ms. */
export interface IdleProbeResult {
  /** The CPU the probe was pinned to, when it was. */
  readonly cpu?: number;
  readonly windows: number;
  /** Windows whose worst timer delay passed 50 ms. */
  readonly wallOver: number;
  /** Windows whose worst delay less the run-queue wait passed 50 ms (an idle process: ~none). */
  readonly ownOver: number;
  readonly wallMaxMs: number;
  readonly ownMaxMs: number;
  /** The probe's main thread's time waiting for a CPU over its life. */
  readonly runQueueWaitMs: number;
  /** Each lateness over 5 ms less the run-queue wait: the machine not running the probe. */
  readonly stalls: readonly MachineStall[];
}

const TASKSET = '/usr/bin/taskset';

/**
 * A process that does nothing but time its own event loop beside the cluster under test: the
 * delays it sees are the machine's scheduling delay, the control for the members' figures.
 */
export class IdleProbe {
  private constructor(
    private readonly process: ManagedProcess,
    private readonly cpu: number | undefined,
  ) {}

  /** Starts a probe, pinned to `cpu` when given and `taskset` is installed. */
  static start(cpu?: number): IdleProbe {
    const script = fileURLToPath(new URL('./idle-probe-process.js', import.meta.url));
    const pinned = cpu !== undefined && existsSync(TASKSET) ? cpu : undefined;
    const managed =
      pinned === undefined
        ? new ManagedProcess('idle-probe', process.execPath, [script])
        : new ManagedProcess(`idle-probe-cpu${pinned}`, TASKSET, [
            '-c',
            String(pinned),
            process.execPath,
            script,
          ]);
    return new IdleProbe(managed, pinned);
  }

  /** Stops the probe; its last complete line, or undefined if it printed none. */
  async stop(): Promise<IdleProbeResult | undefined> {
    await this.process.stop();
    await this.process.closed;
    const lines = this.process.output.join('').split('\n');
    for (const line of lines.reverse()) {
      if (!line.startsWith('{')) continue;
      try {
        const result = JSON.parse(line) as Omit<IdleProbeResult, 'cpu' | 'stalls'> & {
          stalls?: MachineStall[];
        };
        return {
          ...result,
          stalls: result.stalls ?? [],
          ...(this.cpu === undefined ? {} : { cpu: this.cpu }),
        };
      } catch {
        // A line cut by the output buffer: the one before it is complete.
      }
    }
    return undefined;
  }
}
