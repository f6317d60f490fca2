// A JSON file the user names (a placement, a cost model, a result): its contents parsed, or one line naming the
// file and why not — it cannot be read, or it is not JSON (`notJson` says how, for files that may be cut short).
import { readFileSync } from 'node:fs';
import { CliError } from './cli-error.ts';

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function readJsonFile(file: string, what: string, notJson = 'not JSON'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${reason(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${file}: ${notJson} (${reason(error)})`);
  }
}
