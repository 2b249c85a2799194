import {
  type ControlSignal,
  type DaemonEvent,
  type DaemonHealth,
  HEALTHY,
  type MeshDaemon,
} from '../../compute/index.js';
import type { InputProblems } from '../../lib/index.js';

/**
 * What the built-in kinds share: always healthy, never saturated (they answer synchronously),
 * no reaction to control signals. Each kind adds its state, `process`, `snapshot` and `restore`.
 */
export abstract class BuiltInDaemon implements MeshDaemon {
  constructor(readonly name: string) {}

  abstract process(event: DaemonEvent): readonly Uint8Array[];
  abstract snapshot(): Uint8Array;
  abstract restore(state: Uint8Array): void;

  health(): DaemonHealth {
    return HEALTHY;
  }

  saturation(): number {
    return 0;
  }

  onControl(_signal: ControlSignal): void {}
}

/**
 * A config that is absent (undefined or null) or an object with only `allowed` fields; answers
 * the object (empty when absent) and records what is wrong in `problems`.
 */
export function configFields(
  problems: InputProblems,
  config: unknown,
  allowed: readonly string[],
): Readonly<Record<string, unknown>> {
  if (config === undefined || config === null) return {};
  if (!problems.record('config', config)) return {};
  for (const field of Object.keys(config)) {
    if (!allowed.includes(field)) problems.add(`config has an unknown field '${field}'`);
  }
  return config;
}
