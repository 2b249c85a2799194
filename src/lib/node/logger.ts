import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Structured logs. Silent under tests unless MESHOS_LOG names a level, so test output
 * shows only what a test prints on purpose.
 */
export function createLogger(name: string, level?: string): Logger {
  const chosen = level ?? process.env.MESHOS_LOG ?? (process.env.VITEST === undefined ? 'info' : 'silent');
  return pino({ name, level: chosen, base: { name } });
}

/** A logger that discards everything, for pure code paths that accept one optionally. */
export const silentLogger: Logger = pino({ level: 'silent' });
