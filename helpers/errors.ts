// Errors that end a command with exit code 2: bad usage, or a cluster that cannot be
// reached or created. The message is one line: what is wrong and what to do.
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}
