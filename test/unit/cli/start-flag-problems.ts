/** What `meshos start ARGV` is refused for: the problems its FlagError lists (fails if accepted). */
import { expect } from 'vitest';
import { FlagError } from '../../../src/cli/flag-error.js';
import { startPlanFromArguments } from '../../../src/cli/node-commands.js';

export function flagProblems(argv: readonly string[]): readonly string[] {
  try {
    startPlanFromArguments(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(FlagError);
    expect((error as FlagError).code).toBe('BAD_FLAGS');
    return (error as FlagError).problems;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}
