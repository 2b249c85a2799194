import { MeshError } from '../lib/index.js';

/**
 * Command-line flags that do not fit together or do not parse; every problem at once. Its own
 * module, free of the node's code, so the CLI's entry point can tell it apart before loading a command.
 */
export class FlagError extends MeshError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('BAD_FLAGS', problems.join('; '), { details: { problems } });
    this.problems = problems;
  }
}
