import { parseArgs } from 'node:util';
import { wholeNumberFlag } from '../flags.js';

/** `npm run bench -- control [--duration=SECONDS] [--workers=N] [--ttl=SECONDS] [--systems=meshos,etcd]` */
export interface ControlBenchSettings {
  /** Length of the measured steady phase, per system. */
  readonly durationSeconds: number;
  readonly workers: number;
  /** Each worker's lease TTL (the mesh's default node lease TTL is 5 s). */
  readonly ttlSeconds: number;
  readonly systems: readonly ControlBenchSystem[];
}

export type ControlBenchSystem = 'meshos' | 'etcd';

export const DEFAULT_DURATION_SECONDS = 60;
export const MAX_DURATION_SECONDS = 600;
export const DEFAULT_WORKERS = 1_000;
export const MAX_WORKERS = 10_000;
export const DEFAULT_TTL_SECONDS = 5;
const SYSTEMS: readonly ControlBenchSystem[] = ['meshos', 'etcd'];

export function controlBenchSettings(argv: readonly string[]): ControlBenchSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      workers: { type: 'string' },
      ttl: { type: 'string' },
      systems: { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
  });
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const systems = (text(values.systems) ?? SYSTEMS.join(',')).split(',').map((name) => name.trim());
  for (const system of systems) {
    if (!SYSTEMS.includes(system as ControlBenchSystem)) {
      throw new Error(`--systems takes ${SYSTEMS.join(', ')}; got '${system}'`);
    }
  }
  return {
    durationSeconds: wholeNumberFlag(
      'duration',
      text(values.duration),
      DEFAULT_DURATION_SECONDS,
      10,
      MAX_DURATION_SECONDS,
    ),
    workers: wholeNumberFlag('workers', text(values.workers), DEFAULT_WORKERS, 2, MAX_WORKERS),
    ttlSeconds: wholeNumberFlag('ttl', text(values.ttl), DEFAULT_TTL_SECONDS, 2, 60),
    systems: systems as ControlBenchSystem[],
  };
}
