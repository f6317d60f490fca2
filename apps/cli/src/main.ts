#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { TransportName } from './demo.ts';
import { printDemo, runDemo } from './demo.ts';
import { readTrace } from './trace.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** shared/ sits beside the repository (see the project's README). */
const DEFAULT_TRACE = fileURLToPath(new URL('../../../../shared/traces/seabios-post.jsonl.gz', import.meta.url));

function transports(value: string): TransportName[] {
  if (value === 'both') return ['direct', 'worker'];
  if (value === 'direct' || value === 'worker') return [value];
  throw new InvalidArgumentError('expected direct, worker or both');
}

const program = new Command()
  .name('splitvisor')
  .description('A VMM whose devices live in the kernel, the monitor or the device host — and what each placement costs.')
  .version(version);

program
  .command('demo')
  .description('replay a recorded trace as kvm_run exits across each transport to a device host, and time the crossings')
  .option('--trace <file>', 'a trace in the JSON Lines format of shared/traces (gzip or plain)', DEFAULT_TRACE)
  .addOption(new Option('--transport <which>', 'direct, worker or both').default(['direct', 'worker'], 'both').argParser(transports))
  .option('--json', 'print the report as JSON')
  .action(async (options: { trace: string; transport: TransportName[]; json?: boolean }) => {
    const records = await readTrace(options.trace);
    const report = await runDemo(options.trace, records, options.transport);
    if (options.json === true) console.log(JSON.stringify(report, null, 2));
    else printDemo(report);
  });

try {
  await program.parseAsync();
} catch (error) {
  // A user's bad file or flag: one line naming the problem, and a non-zero exit.
  console.error(`splitvisor: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
