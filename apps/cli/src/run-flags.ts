/**
 * The flags of a run — the workload, its parameters, how long, which cost
 * model, what media, live or modelled, JSON or tables — shared by `run`,
 * `compare` and a VMM built for one placement (`splitvisor build`).
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { COST_MODELS } from '@splitvisor/metrics';
import type { DeviceName, Where } from '@splitvisor/placement';
import { DEVICES } from '@splitvisor/placement';
import type { ParameterValue } from '@splitvisor/workloads';
import { WORKLOAD_DEFINITIONS, WORKLOAD_MIXES } from '@splitvisor/workloads';
import { CliError } from './cli-error.ts';
import { NO_VGA_BIOS, VGA_BIOS_FILE } from './firmware-workload.ts';
import type { LiveTransport } from '@splitvisor/vmm';
import type { MoveRequest, WorkloadOptions } from './profile-run.ts';

/** 50ms, 1s, 250us, 1000ns → nanoseconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected a duration such as 50ms, 1s or 250us');
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[match[2] as 'ns' | 'us' | 'µs' | 'ms' | 's'];
  const ns = Math.round(Number(match[1]) * scale);
  if (ns <= 0 || ns > 3_600e9) throw new InvalidArgumentError('a duration between 1 ns and an hour');
  return ns;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export interface RunFlags {
  workload: string;
  hz?: number;
  reads?: number;
  param: Record<string, string>;
  duration: number;
  live?: boolean;
  costModel?: string;
  disk?: string;
  floppy?: string;
  cdrom?: string;
  firmware?: string;
  vgaBios?: string;
  optionRom?: string[];
  json?: boolean;
  snapshotAt?: number;
  snapshotTo?: string;
  move?: MoveRequest[];
  devhost?: LiveTransport;
  recover?: boolean;
  checkpointEvery?: number;
  killDevhostAt?: number;
}

/** `--param name=value`, repeatable, into the record commander accumulates. */
function parameter(value: string, previous: Record<string, string>): Record<string, string> {
  const match = /^([a-z][a-z0-9-]*)=(.*)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected name=value, e.g. --param sectors=8');
  return { ...previous, [match[1] ?? '']: match[2] ?? '' };
}

/** The workload's parameters from `--param` and the shortcuts `--hz` and `--reads`. */
function parametersOf(flags: RunFlags): Record<string, ParameterValue> {
  return { ...flags.param, ...(flags.hz === undefined ? {} : { hz: flags.hz }), ...(flags.reads === undefined ? {} : { reads: flags.reads }) };
}

export function workloadOptions(flags: RunFlags): WorkloadOptions {
  const live = flags.live === true || flags.devhost !== undefined;
  return {
    workload: flags.workload, parameters: parametersOf(flags), durationNs: flags.duration, mode: live ? 'live' : 'modelled',
    ...(flags.costModel === undefined ? {} : { costModel: flags.costModel }),
    ...(flags.disk === undefined ? {} : { disk: flags.disk }),
    ...(flags.floppy === undefined ? {} : { floppy: flags.floppy }),
    ...(flags.cdrom === undefined ? {} : { cdrom: flags.cdrom }),
    ...firmwareOf(flags),
    ...snapshotOf(flags),
    ...(flags.move === undefined ? {} : { moves: flags.move }),
    ...(flags.devhost === undefined ? {} : { transport: flags.devhost }),
    ...recoveryOf(flags, live),
  };
}

/** `--firmware IMAGE [--vga-bios IMAGE|none] [--option-rom IMAGE]…`: option ROMs only with firmware to run them. */
function firmwareOf(flags: RunFlags): Pick<WorkloadOptions, 'firmware' | 'vgaBios' | 'optionRoms'> {
  if (flags.firmware === undefined) {
    if (flags.vgaBios !== undefined) throw new CliError('--vga-bios gives the VGA an option ROM for firmware to run: give --firmware too');
    if (flags.optionRom !== undefined) throw new CliError('--option-rom gives firmware an option ROM to run: give --firmware too');
    return {};
  }
  return { firmware: flags.firmware, ...(flags.vgaBios === undefined ? {} : { vgaBios: flags.vgaBios }), ...(flags.optionRom === undefined ? {} : { optionRoms: flags.optionRom }) };
}

/** The default period of `--recover`'s checkpoints. */
const CHECKPOINT_EVERY_NS = 100e6;

/** `--recover [--checkpoint-every T]` and `--kill-devhost-at N`: live only. */
function recoveryOf(flags: RunFlags, live: boolean): Pick<WorkloadOptions, 'recover' | 'killDevhostAt'> {
  if (flags.checkpointEvery !== undefined && flags.recover !== true) throw new CliError('--checkpoint-every sets how often --recover checkpoints: give --recover too');
  if (!live && (flags.recover === true || flags.killDevhostAt !== undefined)) throw new CliError(`${flags.recover === true ? '--recover' : '--kill-devhost-at'} is for a live device host: add --live (or --devhost process)`);
  return {
    ...(flags.recover === true ? { recover: { checkpointEveryNs: flags.checkpointEvery ?? CHECKPOINT_EVERY_NS } } : {}),
    ...(flags.killDevhostAt === undefined ? {} : { killDevhostAt: flags.killDevhostAt }),
  };
}

const PLACES: readonly string[] = ['kernel', 'monitor', 'user'];

/** `--move DEVICE:PLACE@TIME`, repeatable: a device to move between domains at a guest time. */
export function moveRequest(value: string, previous: MoveRequest[] = []): MoveRequest[] {
  const match = /^([a-z-]+):([a-z]+)@(.+)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected DEVICE:PLACE@TIME, e.g. pit:user@1s');
  const [, device = '', to = '', at = ''] = match;
  if (!(DEVICES as readonly string[]).includes(device)) throw new InvalidArgumentError(`unknown device "${device}" (the board's: ${DEVICES.join(', ')})`);
  if (!PLACES.includes(to)) throw new InvalidArgumentError(`a device moves to kernel, monitor or user, not "${to}"`);
  return [...previous, { device: device as DeviceName, to: to as Exclude<Where, 'absent'>, atNs: duration(at) }];
}

/** `--snapshot-at T --snapshot-to DIR`: both or neither. */
function snapshotOf(flags: RunFlags): Pick<WorkloadOptions, 'snapshot'> {
  if (flags.snapshotAt === undefined && flags.snapshotTo === undefined) return {};
  if (flags.snapshotAt === undefined || flags.snapshotTo === undefined) throw new CliError('give --snapshot-at TIME and --snapshot-to DIR together');
  return { snapshot: { atNs: flags.snapshotAt, dir: flags.snapshotTo } };
}

/** The flags every run shares, with what each teaches. */
export function withRunFlags(command: Command): Command {
  return command
    .option('--workload <name>', `the guest to run: ${[...WORKLOAD_DEFINITIONS, ...WORKLOAD_MIXES].map((w) => w.name).join(', ')} (see splitvisor workloads)`, 'linux-idle-pit')
    .option('--param <name=value>', "one of the workload's parameters (repeatable; see splitvisor workloads)", parameter, {})
    .option('--hz <n>', 'shorthand for --param hz=N: the guest\'s tick rate', positiveInteger)
    .option('--reads <n>', 'shorthand for --param reads=N: clocksource reads before the guest stops', positiveInteger)
    .addOption(new Option('--duration <time>', 'guest time to run, e.g. 50ms or 1s').argParser(duration).default(100e6, '100ms'))
    .option('--cost-model <name>', `charge crossings in this model instead of each profile's own: ${COST_MODELS.map((m) => m.name).join(', ')}`)
    .option('--disk <image>', 'a raw disk image (a multiple of 512 bytes) for the ATA primary master; written through, flushed on FLUSH CACHE; IMAGE:ro opens it read-only, the guest\'s writes aborted (none: no drives)')
    .option('--floppy <image>', 'a raw 720 KB / 1.44 MB / 2.88 MB diskette image in drive A (none: no drives)')
    .option('--cdrom <image>', 'an ISO 9660 image (whole 2048-byte blocks) in the CD-ROM drive on the secondary IDE channel, read-only (none: the drive is empty, as QEMU\'s)')
    .option('--firmware <image>', 'run a PC BIOS image (e.g. Debian\'s /usr/share/seabios/bios-256k.bin) on the x86 CPU from the reset vector, in place of the workload\'s scripted guest')
    .option('--vga-bios <image>', `with --firmware: the std VGA's option ROM, behind its PCI ROM BAR for the firmware to run (default: ${VGA_BIOS_FILE} beside the firmware image, when there, as QEMU finds it; ${NO_VGA_BIOS}: no option ROM)`)
    .option('--option-rom <image>', "with --firmware: an option ROM for it to run after the PCI devices', given to it as fw_cfg's genroms/NAME, as QEMU's -option-rom does (repeatable; e.g. QEMU's kvmvapic.bin)", (file: string, files: string[] | undefined) => [...(files ?? []), file])
    .option('--live', 'run the device host in a worker thread and time each heavyweight exit on the wall clock (not byte-reproducible)')
    .addOption(new Option('--devhost <where>', 'live: the device host in a worker thread, or in a child process of its own under Node\'s permission model (only its images readable; DMA through the kernel)').choices(['worker', 'process']))
    .option('--recover', 'live: checkpoint the VM and, if the device host dies or stops answering, go on from the last checkpoint (the guest replays from there)')
    .addOption(new Option('--checkpoint-every <time>', 'guest time between --recover\'s checkpoints').argParser(duration).default(undefined, '100ms'))
    .option('--kill-devhost-at <n>', 'fault injection, live: the device host dies as it takes its N-th message from the kernel (the first host only, under --recover)', positiveInteger)
    .option('--json', 'print as JSON');
}
