#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { CostModel } from '@splitvisor/metrics';
import { COST_MODELS, costTable } from '@splitvisor/metrics';
import { DEVICES, DOMAINS, KERNEL_PIT_NEEDS_KERNEL_IRQCHIP, PROFILES, RULES, irqchipMode, validatePlacement } from '@splitvisor/placement';
import { IRQCHIP_PARTS, PC_BOARD } from '@splitvisor/vmm';
import { IdleCpu } from '@splitvisor/scripted-guest';
import { Vm, VmError } from '@splitvisor/vmm';
import { WORKLOAD_ALIASES, WORKLOAD_DEFINITIONS, WORKLOAD_MIXES, workloadDefinition } from '@splitvisor/workloads';
import { buildVmm, printBuild } from './build-vmm.ts';
import { calibrate, calibrationRows } from './calibrate.ts';
import { readCostFile } from './cost-file.ts';
import { writeReport, writeResultHtml } from './html-report.ts';
import { readResult, resultSchema } from './result-file.ts';
import { asResult } from './result-format.ts';
import { printTable } from './table.ts';
import { timelineWindow } from './timeline.ts';
import type { CompareBy } from './compare.ts';
import { printComparison } from './compare.ts';
import { EXPERIMENTS, printExperiment, runExperiment } from './experiments.ts';
import type { FuzzFlags } from './fuzz.ts';
import { deviceList, fuzzCommand, opCount, seedValue } from './fuzz.ts';
import { progressBar } from './progress-bar.ts';
import type { ProfileRun } from './profile-run.ts';
import { CliError } from './cli-error.ts';
import type { PlacementRef } from './placement-file.ts';
import { choosePlacement, placementRef, profileAsFile } from './placement-file.ts';
import { boardOf, modelOf, runProfile } from './profile-run.ts';
import { serveQtest } from './qtest.ts';
import { addReplayCommand } from './replay.ts';
import { addResumeCommand } from './resume.ts';
import { addWorkerCommand } from './sweep/queue-worker.ts';
import { addSweepCommand } from './sweep/sweep-command.ts';
import { isSweepFolder, sweepResults } from './sweep/sweep-report.ts';
import { runCommand } from './run.ts';
import type { RunFlags } from './run-flags.ts';
import { duration, moveRequest, positiveInteger, withRunFlags, workloadOptions } from './run-flags.ts';
import type { VmexitProfile } from './vmexit-table.ts';
import { printVmexit, vmexitPlan, vmexitProfile } from './vmexit-table.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('splitvisor')
  .description('A VMM whose devices live in the kernel, the monitor or the device host — and what each placement costs.')
  .version(version);

const DEFAULT_PROFILES = 'qemu-tcg,kvm-irqchip,kvm-userspace-pit,kvm-split,plex86';

withRunFlags(program
  .command('run')
  .description('run one workload under one placement: exits per device and domain, modelled overhead, interrupts and their latency')
  .option('--profile <name>', 'the placement (see splitvisor profiles)')
  .option('--placement <file>', 'a placement of your own, as JSON (start from splitvisor profiles --show NAME)')
  .option('--costs <file>', 'charge crossings in a cost model of your own (JSON: see splitvisor costs --help)')
  .option('--timeline <window>', "draw a window of guest time as seed 001 does, rows H K M G (e.g. 0ms..2ms)", timelineWindow)
  .option('--move <device:place@time>', 'move a device to another domain at a guest time while the run goes on, e.g. pit:user@50ms (repeatable; modelled)', moveRequest)
  .option('--snapshot-at <time>', 'snapshot the whole VM at this guest time (with --snapshot-to), then run on', duration)
  .option('--snapshot-to <dir>', 'the new folder the snapshot is written to (splitvisor resume DIR continues it, under any placement)')
  .option('--html <file>', 'also write the report as a self-contained HTML page'))
  .action(async (flags: RunFlags & { profile?: string; placement?: string; costs?: string; timeline?: { fromNs: number; toNs: number }; html?: string }) => {
    const bar = progressBar('run', flags.json === true, 'ms of guest time');
    const result = await runCommand(choosePlacement(placementRef(flags)), flags, { ...costsOf(flags), ...(flags.timeline === undefined ? {} : { timeline: flags.timeline }) }, (done, total) => { bar.update(Math.round(done / 1e6), Math.round(total / 1e6)); });
    bar.stop();
    await writeResultHtml(flags, result);
  });

addResumeCommand(program);

withRunFlags(program
  .command('compare')
  .description('run one workload under several placements and show where the exits land and what they cost, side by side')
  .option('--profiles <names>', `comma-separated profile names (see splitvisor profiles; default ${DEFAULT_PROFILES}, or none when --placement is given)`)
  .option('--placement <file>', 'a placement of your own, as JSON, compared after the profiles (repeatable)', (file: string, files: string[]) => [...files, file], [])
  .addOption(new Option('--by <what>', 'break the exits down by device (with their cost) or by reason').choices(['device', 'reason']).default('device'))
  .option('--costs <file>', 'charge crossings in a cost model of your own (JSON: see splitvisor costs --help)')
  .option('--html <file>', 'also write the comparison as a self-contained HTML page'))
  .action(async (flags: RunFlags & { profiles?: string; placement: string[]; by: CompareBy; costs?: string; html?: string }) => {
    // The profiles asked for (an empty name is an unknown profile); by default five, or none beside --placement files.
    const names = flags.profiles?.split(',').map((name) => name.trim()) ?? (flags.placement.length > 0 ? [] : DEFAULT_PROFILES.split(','));
    const refs: PlacementRef[] = [...names.map((name) => ({ profile: name })), ...flags.placement.map((file) => ({ file }))];
    const chosen = refs.map(choosePlacement); // every one read and checked before anything runs
    const workload = { ...workloadOptions(flags), ...costsOf(flags) };
    if (workloadDefinition(workload.workload)?.name === 'vmexit') {
      const { tests, iterations } = vmexitPlan(workload);
      const profiles: VmexitProfile[] = [];
      for (const placement of chosen) profiles.push(await vmexitProfile(placement, workload, tests, iterations));
      if (flags.json === true) console.log(JSON.stringify({ workload, iterations, vmexit: profiles }, null, 2));
      else printVmexit(profiles, iterations, workload.durationNs);
      return;
    }
    const runs: ProfileRun[] = [];
    const bar = progressBar('compare', flags.json === true);
    for (const placement of chosen) {
      bar.update(runs.length, chosen.length);
      runs.push(await runProfile(placement, workload));
    }
    bar.stop();
    const result = asResult('compare', { workload, runs });
    if (flags.json === true) console.log(JSON.stringify(result, null, 2));
    else printComparison(runs, workload, flags.by);
    await writeResultHtml(flags, result);
  });

program
  .command('qtest')
  .description("speak QEMU's qtest line protocol on stdin/stdout (outb/inb/readl/writel/clock_step/irq_intercept_in ioapic …): the machine at power-on, no firmware, clock at 0, as QEMU's device tests see it")
  .option('--profile <name>', 'where the devices live (see splitvisor profiles; default kvm-irqchip)')
  .option('--placement <file>', 'a placement of your own, as JSON (start from splitvisor profiles --show NAME)')
  .option('--disk <image>', 'a raw disk image for the ATA primary master (none: no drives)')
  .option('--floppy <image>', 'a raw diskette image in drive A (none: no drives)')
  .action(async (flags: { profile?: string; placement?: string; disk?: string; floppy?: string }) => {
    const { placement } = choosePlacement(placementRef(flags, 'kvm-irqchip'));
    let vm: Vm;
    try {
      vm = new Vm(placement, new IdleCpu(), { board: boardOf(flags) });
    } catch (error) {
      if (error instanceof VmError) throw new CliError(error.message);
      throw error;
    }
    try {
      await serveQtest(vm, process.stdin, (line) => { process.stdout.write(`${line}\n`); });
    } finally {
      await vm.close(); // write caches flushed, images closed
    }
  });

program
  .command('workloads')
  .description('list the guests splitvisor can run, with their parameters')
  .option('--json', 'print as JSON')
  .action((flags: { json?: boolean }) => {
    const rows = WORKLOAD_DEFINITIONS.map((w) => ({
      name: w.name, description: w.description, follows: w.follows,
      aliases: Object.keys(WORKLOAD_ALIASES).filter((alias) => WORKLOAD_ALIASES[alias] === w.name),
      parameters: w.parameters.map(({ name, description, default: fallback, choices, min, max }) => ({ name, description, default: fallback, ...(choices === undefined ? {} : { choices }), ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) })),
    }));
    const mixes = WORKLOAD_MIXES.map((m) => ({ name: m.name, description: m.description, components: m.components }));
    if (flags.json === true) console.log(JSON.stringify({ workloads: rows, mixes }, null, 2));
    else {
      for (const w of rows) {
        console.log(`${w.name}${w.aliases.length === 0 ? '' : ` (also ${w.aliases.join(', ')})`}: ${w.description}\n  follows ${w.follows}`);
        for (const p of w.parameters) {
          const range = p.choices !== undefined ? `: ${p.choices.join(' | ')}` : p.min !== undefined || p.max !== undefined ? `: ${p.min ?? ''}–${p.max ?? ''}` : '';
          console.log(`  --param ${p.name}=… ${p.description}${range} (default ${p.default})`);
        }
        console.log('');
      }
      for (const m of mixes) {
        console.log(`${m.name} (a mix): ${m.description}`);
        for (const c of m.components) {
          const given = Object.entries(c.parameters).map(([name, value]) => `${name}=${value}`).join(' ');
          console.log(`  ${Math.round(c.share * 100)} % ${c.workload}${given === '' ? '' : ` ${given}`}`);
        }
        console.log('');
      }
      console.log('A mix runs each component on a VM of its own for its share of the duration, under the same placement, and adds up what they cost.');
    }
  });

program
  .command('profiles')
  .description('list the named placements and what each models, or print one as a placement file to copy and edit (--show)')
  .option('--show <name>', 'print the profile as a placement file: edit it, then run it with --placement FILE')
  .option('--json', 'print as JSON')
  .action((options: { show?: string; json?: boolean }) => {
    if (options.show !== undefined) {
      process.stdout.write(profileAsFile(options.show));
      return;
    }
    const rows = PROFILES.map((p) => {
      const result = validatePlacement(p);
      return { name: p.name, irqchip: result.ok ? irqchipMode(result.placement) : 'invalid', description: p.description, models: p.models };
    });
    if (options.json === true) console.log(JSON.stringify(rows, null, 2));
    else for (const row of rows) console.log(`${row.name} (${row.irqchip} irqchip): ${row.description}\n  ${row.models}\n`);
  });

program
  .command('devices')
  .description('list the board\'s devices, where each sits, and the rules of where it may be placed')
  .option('--json', 'print as JSON')
  .action((options: { json?: boolean }) => {
    const rows = DEVICES.map((name) => {
      const slot = PC_BOARD[name];
      const rules = RULES.filter((r) => r.together.includes(name)).map((r) => `with ${r.together.filter((d) => d !== name).join(', ')}: ${r.why}`);
      if (name === 'pit') rules.push(KERNEL_PIT_NEEDS_KERNEL_IRQCHIP);
      const regions = slot?.regions;
      return {
        device: name,
        placeable: IRQCHIP_PARTS.includes(name) ? [...DOMAINS] : [...DOMAINS, 'absent'],
        at: regions === undefined ? 'not modelled yet' : regions.map((r) => `${r.space} 0x${r.base.toString(16)}`).join(', '),
        rules,
      };
    });
    if (options.json === true) console.log(JSON.stringify(rows, null, 2));
    else for (const row of rows) console.log(`${row.device}: ${row.at}; placeable in ${row.placeable.join(', ')}${row.rules.map((r) => `\n  ${r}`).join('')}`);
  });

program
  .command('experiment')
  .description(`rerun a design thread's argument as an experiment: ${EXPERIMENTS.join(', ')} (modelled, deterministic)`)
  .argument('<name>', `the experiment: ${EXPERIMENTS.join(', ')}`)
  .option('--vms <n>', 'xen-vtimer: VMs on the host', positiveInteger, 16)
  .option('--vcpus <n>', 'xen-vtimer: vCPUs per VM', positiveInteger, 4)
  .option('--pcpus <n>', 'xen-vtimer, lost-ticks: host CPUs', positiveInteger, 4)
  .addOption(new Option('--slice <time>', "the host scheduler's round-robin slice").argParser(duration).default(10e6, '10ms'))
  .option('--duration <time>', 'time to run each case (default 1s; io-fastpaths 20ms)', duration)
  .option('--json', 'print as JSON')
  .option('--html <file>', 'also write the tables and their curves as a self-contained HTML page')
  .action(async (name: string, flags: { vms: number; vcpus: number; pcpus: number; slice: number; duration?: number; json?: boolean; html?: string }) => {
    const bar = progressBar(`experiment ${name}`, flags.json === true);
    const report = runExperiment(name, { vms: flags.vms, vcpus: flags.vcpus, pcpus: flags.pcpus, sliceNs: flags.slice, ...(flags.duration === undefined ? {} : { durationNs: flags.duration }), progress: bar.update });
    bar.stop();
    const result = asResult('experiment', report);
    if (flags.json === true) console.log(JSON.stringify(result, null, 2));
    else printExperiment(report);
    await writeResultHtml(flags, result);
  });

program
  .command('calibrate')
  .description('measure what the transitions cost on this machine (vmexit loops, direct and worker transports, and the bare SharedArrayBuffer ping-pong), beside the cost model')
  .option('--profile <name>', 'where the loops run (its PM timer must be in the device host; default kvm-irqchip)', 'kvm-irqchip')
  .addOption(new Option('--iterations <n>', 'iterations of each loop').argParser(positiveInteger).default(20_000))
  .option('--cost-model <name>', `the model to set beside the measurements (default the profile's): ${COST_MODELS.map((m) => m.name).join(', ')}`)
  .option('--json', 'print as JSON')
  .action(async (flags: { profile: string; iterations: number; costModel?: string; json?: boolean }) => {
    const bar = progressBar('calibrate', flags.json === true);
    const calibration = await calibrate(choosePlacement(flags.profile), { iterations: flags.iterations, ...(flags.costModel === undefined ? {} : { costModel: flags.costModel }), progress: bar.update });
    bar.stop();
    if (flags.json === true) console.log(JSON.stringify(calibration, null, 2));
    else {
      console.log(`splitvisor calibrate — ${flags.iterations} iterations of each vmexit loop under ${flags.profile}, on this machine\n`);
      printTable(calibrationRows(calibration), { transition: 44, how: 40 });
      console.log('Wall-clock figures of this run, this machine (not reproducible); the model\'s are the ones modelled runs charge.');
    }
  });

program
  .command('report')
  .description('draw results (what run, compare and experiment print with --json, or a sweep\'s folder) as one self-contained HTML page')
  .argument('[results...]', 'result files (JSON), or sweep folders (splitvisor sweep --out DIR)')
  .option('-o, --output <file>', 'the page to write', join('reports', 'report.html'))
  .option('--schema', 'print the JSON Schema of the result format instead')
  .action(async (files: string[], flags: { output: string; schema?: boolean }) => {
    if (flags.schema === true) {
      console.log(JSON.stringify(resultSchema(), null, 2));
      return;
    }
    if (files.length === 0) throw new CliError('give the result files to draw (splitvisor run … --json > result.json), or a sweep\'s folder');
    // Every one read and checked before anything is written; a sweep's folder gives a comparison per workload.
    const results = files.flatMap((file) => (isSweepFolder(file) ? sweepResults(file) : [{ file, result: readResult(file) }]));
    console.log(`HTML report: ${await writeReport(results, flags.output)}`);
  });

program
  .command('costs')
  .description('print the cost model in force: every kind of transition, what it is charged and where the number comes from')
  .option('--cost-model <name>', `a built-in model: ${COST_MODELS.map((m) => m.name).join(', ')}`)
  .option('--profile <name>', "the model a profile's runs are charged in (see splitvisor profiles)")
  .option('--costs <file>', 'a model of your own: JSON {"name", "base": a built-in, "costs": {"exit" | "lightweight-exit" | "heavyweight-exit" | "coalesced-append" | "coalesced-drain" | "posted-write": {"cycles", "source"}}}')
  .option('--json', 'print as JSON')
  .action((flags: { costModel?: string; profile?: string; costs?: string; json?: boolean }) => {
    if ([flags.costModel, flags.profile, flags.costs].filter((f) => f !== undefined).length > 1) throw new CliError('give one of --cost-model, --profile and --costs');
    const model = flags.costs !== undefined ? readCostFile(flags.costs) : modelOf(flags.costModel ?? (flags.profile === undefined ? 'kvm-2020' : choosePlacement(flags.profile).placement.costModel));
    const rows = costTable(model);
    if (flags.json === true) console.log(JSON.stringify({ model: model.name, description: model.description, transitions: rows }, null, 2));
    else {
      console.log(`Cost model ${model.name}: ${model.description}\n`);
      printTable(rows.map((r) => ({ transition: r.transition, 'charged as': r.charged, cycles: r.cycles, source: r.source })), { transition: 34, 'charged as': 22, source: 72 });
    }
  });

program
  .command('build')
  .description('build a VMM for one placement: one bundle per domain holding only the devices placed there, and a manifest (OUT/NAME)')
  .option('--profile <name>', 'the placement (see splitvisor profiles)')
  .option('--placement <file>', 'a placement of your own, as JSON (start from splitvisor profiles --show NAME)')
  .option('--out <dir>', 'where the VMM goes, as OUT/NAME', join('dist', 'vmm'))
  .option('--json', 'print the manifest as JSON')
  .action(async (flags: { profile?: string; placement?: string; out: string; json?: boolean }) => {
    const built = await buildVmm(choosePlacement(placementRef(flags)), { out: flags.out });
    if (flags.json === true) console.log(JSON.stringify(built.manifest, null, 2));
    else printBuild(built);
  });

program
  .command('fuzz')
  .description("drive the board's devices through their registers with seeded random reads, writes and time, as QEMU's fuzz_registers does: what each ignores, the DMA guest memory refuses, and every throw or broken invariant (exit status 1)")
  .addOption(new Option('--device <names>', `the device (${DEVICES.join(', ')}), several separated by commas, or all`).argParser(deviceList).default([...DEVICES], 'all'))
  .addOption(new Option('--ops <n>', 'operations per device').argParser(opCount).default(100_000))
  .addOption(new Option('--seed <n>', 'the seed (a whole number): the same one gives the same operations and the same report').argParser(seedValue).default(1))
  .option('--json', 'print as JSON')
  .action((flags: FuzzFlags) => { fuzzCommand(flags); });

addReplayCommand(program);
addSweepCommand(program);
addWorkerCommand(program);

/** `--costs FILE`, in place of `--cost-model`: a model of the user's own for the run's crossings. */
function costsOf(flags: { readonly costs?: string; readonly costModel?: string }): { readonly costModel?: CostModel } {
  if (flags.costs === undefined) return {};
  if (flags.costModel !== undefined) throw new CliError('give --cost-model NAME or --costs FILE, not both');
  return { costModel: readCostFile(flags.costs) };
}

try {
  await program.parseAsync();
} catch (error) {
  // A user's bad file or flag: one line naming the problem, and a non-zero exit.
  console.error(`splitvisor: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
