/** A user's mistake (a bad flag, file or name): one line on stderr and a non-zero exit, nothing written. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
