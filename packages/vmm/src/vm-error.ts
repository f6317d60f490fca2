/** A placement this build cannot run, or a board mistake: one line for the user. */
export class VmError extends Error {
  override readonly name = 'VmError';
}
