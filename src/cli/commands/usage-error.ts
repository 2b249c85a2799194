/**
 * A bad command line; the message says what was wrong, the usage text how to write it. Its own
 * module, free of the client, so the CLI's entry point can tell it apart before loading a command.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
