import { isMeshError } from '../lib/index.js';
import { UsageError } from './commands/usage-error.js';
import { FlagError } from './flag-error.js';

/** How `meshos` ends when a command threw: the line for stderr and the exit code. */
export interface CommandFailure {
  readonly message: string;
  readonly exitCode: number;
}

/** A bad command line exits 2, anything else 1; typed errors are printed with their code. */
export function commandFailure(error: unknown): CommandFailure {
  if (
    error instanceof UsageError ||
    error instanceof FlagError ||
    (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  ) {
    return { message: `meshos: ${(error as Error).message}`, exitCode: 2 };
  }
  return { message: `meshos: ${describeError(error)}`, exitCode: 1 };
}

function describeError(error: unknown): string {
  if (isMeshError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
