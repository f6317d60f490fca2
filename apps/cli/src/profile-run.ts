/**
 * One workload under one placement: the VM assembled from the profile, the
 * guest run for a stretch of virtual time, and what it cost — exits by device
 * and domain, modelled overhead in the profile's cost model, interrupts and
 * their latency, and in live mode the wall time of each heavyweight exit
 * kind. `splitvisor run` prints one; `splitvisor compare` several side by
 * side. Modelled runs are deterministic: the same arguments give the same
 * report, byte for byte.
 */
import { performance } from 'node:perf_hooks';
import type { CostModel, ExitReport, TransitionRow } from '@splitvisor/metrics';
import { COST_MODELS, Histogram, costModel, exitReport } from '@splitvisor/metrics';
import type { Placement } from '@splitvisor/placement';
import type { DeviceName, Where } from '@splitvisor/placement';
import type { BoardOptions, DeviceMove, LiveTransport, Recovery, RunTotals, SnapshotSizes, VmMode, VmSnapshot } from '@splitvisor/vmm';
import { DeviceHostLost, SnapshotFileError, Vm, VmError, runRecovering, writeSnapshot } from '@splitvisor/vmm';
import type { ParameterValue, Workload } from '@splitvisor/workloads';
import { WorkloadError, createWorkload, workloadMix } from '@splitvisor/workloads';
import { CliError } from './cli-error.ts';
import type { FirmwareWorkload } from './firmware-workload.ts';
import { firmwareStop, firmwareWorkload, isFirmware, vgaBiosFile } from './firmware-workload.ts';
import type { RunTimeline } from './timeline.ts';
import type { ChosenPlacement } from './placement-file.ts';

export interface WorkloadOptions {
  readonly workload: string;
  /** The workload's parameters by name, as given (the workload's defaults fill the rest). */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly durationNs: number;
  readonly mode?: VmMode;
  /** Charge every crossing in this cost model (a built-in's name, or a model of the user's own) instead of the profile's own. */
  readonly costModel?: string | CostModel;
  /** A raw image for the ATA disk's primary master; `FILE:ro` opens it read-only. */
  readonly disk?: string;
  /** A raw diskette image for floppy drive A. */
  readonly floppy?: string;
  /** An ISO 9660 image in the CD-ROM drive (read-only). */
  readonly cdrom?: string;
  /** A PC BIOS image the x86 CPU runs from the reset vector, instead of the workload's scripted guest (`--firmware`). */
  readonly firmware?: string;
  /** With `firmware`: the std VGA's option ROM, or `none` (`--vga-bios`); by default vgabios-stdvga.bin beside the firmware, when there. */
  readonly vgaBios?: string;
  /** With `firmware`: more option ROMs for it to run, fw_cfg's genroms/ files (`--option-rom`). */
  readonly optionRoms?: readonly string[];
  /** Modelled: time the direct transport's round trips and the guest's run on the wall clock too (this machine's figures: `wallNs`, `runWallNs`). */
  readonly timeCrossings?: boolean;
  /** Keep the crossings of this window of guest time (the first part's, for a mix) for a timeline. */
  readonly timeline?: { readonly fromNs: number; readonly toNs: number };
  /** Snapshot the whole VM at `atNs` of guest time into the folder `dir`, then run on (one workload, not a mix). */
  readonly snapshot?: { readonly atNs: number; readonly dir: string };
  /** Move devices between domains at these guest times while the run goes on (`--move pit:user@1s`). */
  readonly moves?: readonly MoveRequest[];
  /** Live: the device host in a worker thread (default) or a child process of its own (`--devhost process`). */
  readonly transport?: LiveTransport;
  /** Live: checkpoint the VM this often (guest time) and, when the device host is lost, go on from the last checkpoint (`--recover`). */
  readonly recover?: { readonly checkpointEveryNs: number };
  /** Live, fault injection: the (first) device host dies as it takes this message from the kernel (`--kill-devhost-at N`). */
  readonly killDevhostAt?: number;
}

/** A loss of the device host the run recovered from (`--recover`). */
export interface RecoveryReport {
  /** Guest ms the VM had reached when the loss was found. */
  readonly atNs: number;
  /** The access the host never answered, and its device. */
  readonly inFlight: string;
  readonly reason: string;
  /** Wall ms the VM waited on the host before it knew. */
  readonly detectedMs: number;
  /** The checkpoint the VM was made again from (0: power-on). */
  readonly fromNs: number;
  /** Guest time run again. */
  readonly replayedNs: number;
}

/** A device to move, where, and when (guest time). */
export interface MoveRequest {
  readonly device: DeviceName;
  readonly to: Exclude<Where, 'absent'>;
  readonly atNs: number;
}

/** A snapshot a run took: its folder, the guest time it was taken at, its size by part. */
export interface TakenSnapshot {
  readonly dir: string;
  readonly atNs: number;
  readonly sizes: SnapshotSizes;
}

/** Where a run's VM comes from when it continues a snapshot (`splitvisor resume`): the snapshot, and where it was read. */
export interface Resume {
  readonly dir: string;
  readonly snapshot: VmSnapshot;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** The histogram: each bucket that holds a value, as [its smallest value, how many]. */
  readonly bins: readonly (readonly [number, number])[];
}

/** With the exits by boundary and by device and their modelled overhead (unrounded share of guest time). */
export interface ProfileRun extends ExitReport {
  readonly profile: string;
  readonly irqchip: string;
  readonly mode: VmMode;
  readonly costModel: string;
  /** The placement's time policy: `guest-and-exits` (the guest's clock runs on through its exits) or `guest-cycles`. */
  readonly time: string;
  readonly interrupts: number;
  /** Interrupt-window exits (the guest could not take an interrupt its userspace irqchip had for it). */
  readonly irqWindows: number;
  readonly guestCycles: number;
  /** Guest time actually run, ns (shorter than asked when the guest stopped). */
  readonly guestNs: number;
  /** Virtual ns from the CPU's interrupt line rising to the CPU taking the interrupt. */
  readonly interruptLatencyNs: Percentiles;
  /** Each timer device's lateness: virtual ns from its deadline to its domain running it (every vCPU's; modelled mode). */
  readonly timerLatenessNs: Readonly<Record<string, Percentiles>>;
  /** Live mode (or `timeCrossings`) only: wall-clock ns per heavyweight exit round trip, by exit kind. */
  readonly wallNs?: Readonly<Record<string, Percentiles>>;
  /** With `timeCrossings`: the wall-clock ns the guest's run took (the VM's assembly apart). */
  readonly runWallNs?: number;
  readonly unmodelled: readonly string[];
  /** What the guest wrote to COM1 (empty live with COM1 in the device host's worker). */
  readonly console: string;
  /** What the guest wrote to the ISA debug console at 402h (SeaBIOS's log): its last 64 KiB, from wherever the device runs. */
  readonly debugConsole: string;
  /** What the guest did in its own terms (ticks, sectors, bytes, iterations). */
  readonly progress: Readonly<Record<string, number>>;
  /** Heavyweight exits each I/O fast path took in the kernel instead (seeds 002, 003): writes queued, reads answered. */
  readonly savedByFastPath: FastPathSavings;
  /** The window asked for (`timeline`): the bootstrap processor's crossings in it. */
  readonly timeline?: RunTimeline;
  /** The devices moved while it ran (`--move`), in order. */
  readonly moves?: readonly DeviceMove[];
  /** The snapshot this run took (`--snapshot-at`): where, when, and its size by part. */
  readonly snapshot?: TakenSnapshot;
  /** The snapshot this run continued (`resume`): its exits and interrupts are counted from there. */
  readonly resumedFrom?: { readonly dir: string; readonly placement: string; readonly atNs: number };
  /** `--recover`: the checkpoints taken and each loss of the device host recovered from (the counts above are the whole run's). */
  readonly recovery?: { readonly checkpointEveryNs: number; readonly checkpoints: number; readonly recoveries: readonly RecoveryReport[] };
}

export interface FastPathSavings {
  readonly coalescing: number;
  readonly cachedReads: number;
  readonly kernelCounters: number;
  readonly programs: number;
  /** Writes sent on one way: the guest did not wait for the device host. */
  readonly postedWrites: number;
}

/** `--disk FILE:ro`: the image opened read-only (the guest's writes end in an ATA error, the file keeps its bytes). */
const READ_ONLY_SUFFIX = ':ro';

/** The disk a `--disk` value names: `FILE`, or `FILE:ro` read-only. */
function diskOf(value: string): BoardOptions {
  return value.endsWith(READ_ONLY_SUFFIX) ? { diskImage: value.slice(0, -READ_ONLY_SUFFIX.length), diskReadOnly: true } : { diskImage: value };
}

/**
 * The media a run's flags put on the board, else the blank ones its workload
 * asks for (in memory: nothing written to the host), and the workload's host
 * input. Without either, no drives.
 */
export function boardOf(options: { readonly disk?: string; readonly floppy?: string; readonly cdrom?: string }, workload?: Workload): BoardOptions {
  const needs = workload?.board ?? {};
  return {
    ...(options.disk !== undefined ? diskOf(options.disk) : needs.diskBytes !== undefined ? { diskBlankBytes: needs.diskBytes } : {}),
    ...(options.floppy !== undefined ? { floppyImage: options.floppy } : needs.floppyBytes !== undefined ? { floppyBlankBytes: needs.floppyBytes } : {}),
    ...(options.cdrom === undefined ? {} : { cdromImage: options.cdrom }),
    ...(needs.typing === undefined ? {} : { typing: needs.typing }),
  };
}

/** The workload the options name, built with their parameters; one line for the user when either is wrong. */
export function workloadFor(options: WorkloadOptions): Workload {
  if (options.firmware !== undefined) return firmwareWorkload(options.firmware, options.vgaBios, options.optionRoms);
  try {
    return createWorkload(options.workload, options.parameters);
  } catch (error) {
    if (error instanceof WorkloadError || error instanceof RangeError) throw new CliError(error.message);
    throw error;
  }
}

function percentiles(histogram: Histogram): Percentiles {
  return { count: histogram.count, p50: histogram.percentile(50), p90: histogram.percentile(90), p99: histogram.percentile(99), max: histogram.count === 0 ? 0 : histogram.max, bins: histogram.bins() };
}

/** Histograms by name, sorted, as percentiles. */
function byName(histograms: ReadonlyMap<string, Histogram>): Record<string, Percentiles> {
  return Object.fromEntries([...histograms].sort(([a], [b]) => a.localeCompare(b)).map(([name, h]) => [name, percentiles(h)]));
}

/** Adds each of `from`'s histograms into `into`'s of the same name. */
function mergeInto(into: Map<string, Histogram>, from: ReadonlyMap<string, Histogram>): void {
  for (const [name, histogram] of from) {
    const merged = into.get(name) ?? new Histogram();
    merged.merge(histogram);
    into.set(name, merged);
  }
}

/** A VM's timer lateness by device, its vCPUs' histograms merged. */
function mergedByDevice(byVcpu: ReadonlyMap<string, readonly (Histogram | undefined)[]>): Map<string, Histogram> {
  const merged = new Map<string, Histogram>();
  for (const [device, histograms] of byVcpu) {
    const total = new Histogram();
    for (const h of histograms) if (h !== undefined) total.merge(h);
    merged.set(device, total);
  }
  return merged;
}

/** What one VM run gave, before it is charged in a cost model (a mix adds several up). */
interface Measured {
  readonly irqchip: string;
  readonly interrupts: number;
  readonly irqWindows: number;
  readonly guestCycles: number;
  readonly guestNs: number;
  readonly rows: readonly TransitionRow[];
  readonly latency: Histogram;
  readonly lateness: ReadonlyMap<string, Histogram>;
  readonly wall: ReadonlyMap<string, Histogram>;
  readonly unmodelled: readonly string[];
  readonly console: string;
  readonly debugConsole: string;
  readonly progress: Readonly<Record<string, number>>;
  readonly saved: FastPathSavings;
  readonly timeline: RunTimeline | undefined;
  readonly runWallNs: number;
  readonly snapshot?: TakenSnapshot;
  readonly moves?: readonly DeviceMove[];
  readonly recovery?: ProfileRun['recovery'];
}

/** The board a firmware run's VM gets: its RAM, and its option ROMs (the VGA's, fw_cfg's genroms/). */
function firmwareBoard(board: BoardOptions, workload: FirmwareWorkload): BoardOptions {
  return {
    ...board, memoryBytes: workload.ram.byteLength,
    ...(workload.vgaBios === undefined ? {} : { vgaBios: workload.vgaBios }),
    ...(workload.optionRoms.length === 0 ? {} : { optionRoms: workload.optionRoms }),
  };
}

/** A VM of the placement for `workload`, as the options make it; one line for the user when it cannot be. */
function vmFor(placement: Placement, workload: Workload, options: WorkloadOptions, mode: VmMode, snapshots: boolean, progress: ((nowNs: number) => void) | undefined, faulty: boolean): Vm {
  try {
    const board = boardOf(options, workload);
    return new Vm(placement, workload.guest, {
      ...(snapshots ? { snapshots: true } : {}),
      mode, board: isFirmware(workload) ? firmwareBoard(board, workload) : board,
      ...(isFirmware(workload) ? { ram: workload.ram } : {}),
      ...(options.costModel === undefined ? {} : { costModel: options.costModel }),
      ...(workload.aps === undefined ? {} : { aps: workload.aps }),
      ...(options.timeline === undefined ? {} : { timeline: options.timeline }),
      ...(options.timeCrossings === true ? { timeCrossings: true } : {}),
      ...(progress === undefined ? {} : { progress }),
      ...(options.transport === undefined ? {} : { transport: options.transport }),
      ...(faulty && options.killDevhostAt !== undefined ? { faults: { dieAtMessage: options.killDevhostAt } } : {}),
    });
  } catch (error) {
    if (error instanceof DeviceHostLost) throw error;
    if (error instanceof VmError) throw new CliError(error.message);
    throw error;
  }
}

/** One workload on a VM of the placement for `durationNs` (continuing `resume`'s machine, when given). */
async function measure(placement: Placement, workload: Workload, options: WorkloadOptions, durationNs: number, mode: VmMode, progress?: (nowNs: number) => void, resume?: Resume): Promise<Measured> {
  if (options.recover !== undefined) return measureRecovering(placement, options, options.recover.checkpointEveryNs, durationNs, mode, progress);
  const snapshots = options.snapshot !== undefined || resume !== undefined;
  const vm = lostAsCliError(() => vmFor(placement, workload, options, mode, snapshots, progress, true));
  try {
    if (resume !== undefined) restoreInto(vm, resume);
    // A resumed run reports what it ran itself: its exits, and the guest time from the snapshot on.
    const fromTsc = vm.clock.tsc();
    const fromNs = vm.clock.now();
    const start = performance.now();
    let taken: TakenSnapshot | undefined;
    const { snapshot } = options;
    // The stops the run makes on its way, in guest-time order: each move, and the snapshot.
    const stops = [
      ...(options.moves ?? []).map((move) => ({ atNs: move.atNs, act: () => { moveIn(vm, move); } })),
      ...(snapshot === undefined ? [] : [{ atNs: snapshot.atNs, act: () => { taken = takeSnapshot(vm, snapshot.dir, options, placement); } }]),
    ].sort((a, b) => a.atNs - b.atNs);
    const summary = lostAsCliError(() => {
      for (const stop of stops) {
        vm.run(stop.atNs);
        stop.act();
      }
      return vm.run(durationNs);
    });
    const stopped = firmwareStop(workload);
    if (stopped !== undefined) throw stopped;
    return {
      ...(taken === undefined ? {} : { snapshot: taken }),
      ...measuredOf(vm, workload, options, summary, fromTsc, fromNs, (performance.now() - start) * 1e6),
    };
  } finally {
    await vm.close();
  }
}

/** A device host lost without `--recover`: its one line (the access in flight, why), exit ≠ 0. */
function lostAsCliError<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof DeviceHostLost) throw new CliError(`${error.message} (--recover goes on from a checkpoint)`);
    throw error;
  }
}

/** What a finished VM measured, for the report. */
function measuredOf(vm: Vm, workload: Workload, options: WorkloadOptions, summary: RunTotals, fromTsc: number, fromNs: number, runWallNs: number): Omit<Measured, 'snapshot'> {
  return {
    ...(vm.moves.length === 0 ? {} : { moves: [...vm.moves] }),
    irqchip: vm.irqchip, interrupts: summary.interrupts, irqWindows: summary.windows, guestCycles: vm.clock.tsc() - fromTsc, guestNs: vm.clock.now() - fromNs,
    runWallNs,
    timeline: vm.timeline === undefined || options.timeline === undefined ? undefined : { ...options.timeline, startsIn: vm.timeline.startsIn, ...(vm.timeline.startsHaltedIn === undefined ? {} : { startsHaltedIn: vm.timeline.startsHaltedIn }), events: vm.timeline.events, dropped: vm.timeline.dropped },
    saved: savingsOf(vm), rows: vm.counts.rows(), latency: vm.interruptLatency, lateness: mergedByDevice(vm.timerLateness), wall: vm.wallTimes, unmodelled: vm.unmodelled, console: vm.console(), debugConsole: vm.debugConsole(), progress: workload.progress(),
  };
}

/**
 * `--recover`: the run checkpointed every `everyNs` of guest time; a device
 * host lost on the way is replaced by a VM made again from the last
 * checkpoint (a fresh guest replaying from there), and the report counts
 * the whole run and lists each loss.
 */
async function measureRecovering(placement: Placement, options: WorkloadOptions, everyNs: number, durationNs: number, mode: VmMode, progress?: (nowNs: number) => void): Promise<Measured> {
  let made = 0;
  const start = performance.now();
  const { run, recoveries, checkpoints, totals } = await runRecovering(() => {
    const workload = workloadFor(options);
    return { workload, vm: vmFor(placement, workload, options, mode, true, progress, made++ === 0) };
  }, durationNs, { checkpointEveryNs: everyNs });
  try {
    return {
      ...measuredOf(run.vm, run.workload, options, totals, 0, 0, (performance.now() - start) * 1e6),
      recovery: { checkpointEveryNs: everyNs, checkpoints, recoveries: recoveries.map(recoveryReport) },
    };
  } finally {
    await run.vm.close();
  }
}

function recoveryReport(recovery: Recovery): RecoveryReport {
  const first = recovery.lost.inFlight[0];
  return {
    atNs: recovery.atNs,
    inFlight: first === undefined ? 'none' : `${first.access}${first.device === undefined ? '' : ` (${first.device})`}${recovery.lost.inFlight.length > 1 ? ` and ${recovery.lost.inFlight.length - 1} more` : ''}`,
    reason: recovery.lost.reason,
    detectedMs: Number(recovery.lost.waitedMs.toFixed(3)),
    fromNs: recovery.fromNs,
    replayedNs: recovery.replayedNs,
  };
}

/** One `--move`: one line for the user when the device cannot go there. */
function moveIn(vm: Vm, move: MoveRequest): void {
  try {
    vm.move(move.device, move.to);
  } catch (error) {
    if (error instanceof VmError) throw new CliError(`--move ${move.device}:${move.to}@${move.atNs / 1e6}ms: ${error.message}`);
    throw error;
  }
}

/** `resume`'s machine into `vm`; one line naming the snapshot when it cannot be (another workload, a device this placement lacks). */
function restoreInto(vm: Vm, resume: Resume): void {
  try {
    vm.restore(resume.snapshot);
  } catch (error) {
    if (error instanceof VmError || error instanceof RangeError) throw new CliError(`${resume.dir}: ${error.message}`);
    throw error;
  }
}

/** The VM as it stands, into `--snapshot-to`'s folder, with what `resume` needs to run it on. */
function takeSnapshot(vm: Vm, dir: string, options: WorkloadOptions, placement: Placement): TakenSnapshot {
  const { snapshot: _snapshot, mode: _mode, ...run } = options;
  try {
    const manifest = writeSnapshot(dir, vm.snapshot(), { ...run, placement } satisfies SnapshotRun);
    return { dir, atNs: manifest.timeNs, sizes: manifest.sizes };
  } catch (error) {
    if (error instanceof SnapshotFileError) throw new CliError(error.message);
    throw error;
  }
}

/** What a snapshot's manifest keeps of the run that took it: the workload, its parameters, its length, its media, its placement. */
export type SnapshotRun = Omit<WorkloadOptions, 'snapshot' | 'mode'> & { readonly placement: Placement };

/** What each fast path took in the kernel instead of a heavyweight exit: the coalesced ring's appends and the posted writes (counted as transitions), and what the kernel answered. */
function savingsOf(vm: Vm): FastPathSavings {
  const { cachedReads, counterReads, programRuns } = vm.kernelActivity();
  const inKernel = (reason: 'coalesced' | 'posted') => vm.counts.rows().filter((r) => r.reason === reason && r.from === 'kernel' && r.to === 'kernel').reduce((n, r) => n + r.count, 0);
  return { coalescing: inKernel('coalesced'), cachedReads: cachedReads.served, kernelCounters: counterReads.served, programs: programRuns.answered, postedWrites: inKernel('posted') };
}

/** The workloads a run is made of: the one named, or a mix's components, each with its share of the duration. */
function partsOf(options: WorkloadOptions): { readonly label: string; readonly workload: Workload; readonly durationNs: number }[] {
  const mix = workloadMix(options.workload);
  if (mix === undefined) return [{ label: '', workload: workloadFor(options), durationNs: options.durationNs }];
  const given = Object.keys(options.parameters);
  if (given.length > 0) throw new CliError(`workload ${mix.name} is a mix and takes no parameters (given ${given.join(', ')})`);
  return mix.components.map((c) => ({
    label: c.workload,
    workload: workloadFor({ ...options, workload: c.workload, parameters: c.parameters }),
    durationNs: Math.round(options.durationNs * c.share),
  }));
}

/** What `--recover` cannot go with: one line each. */
function checkRecoverable(options: WorkloadOptions, mode: VmMode, parts: number): void {
  if (mode !== 'live') throw new CliError('--recover recovers a live device host: add --live (or --devhost process)');
  if (parts > 1) throw new CliError(`workload ${options.workload} is a mix of VMs run one after another: recover one workload`);
  if (options.snapshot !== undefined || options.moves !== undefined) throw new CliError('--recover goes with neither --snapshot-at nor --move');
  // A checkpoint cannot take back what reached a file: the guest replaying from it would read its own later writes.
  if (options.disk !== undefined && !options.disk.endsWith(READ_ONLY_SUFFIX)) throw new CliError(`--recover needs the disk image read-only (--disk ${options.disk}:ro): writes made since a checkpoint are already in the file`);
  if (options.floppy !== undefined) throw new CliError('--recover cannot take a floppy image file (writes made since a checkpoint would already be in it): use the workload\'s blank diskette');
}

/** The cost model a run is charged in: a built-in by name (one line when there is none), or the user's own. */
export function modelOf(model: string | CostModel): CostModel {
  if (typeof model !== 'string') return model;
  const found = costModel(model);
  if (found === undefined) throw new CliError(`unknown cost model "${model}" (this build has: ${COST_MODELS.map((m) => m.name).join(', ')})`);
  return found;
}

/** One workload under a placement already read and checked (`choosePlacement`). */
export async function runProfile(chosen: ChosenPlacement, options: WorkloadOptions, onProgress?: (doneNs: number, totalNs: number) => void, resume?: Resume): Promise<ProfileRun> {
  const { label: name, placement } = chosen;
  const model = modelOf(options.costModel ?? placement.costModel);
  const mode = options.mode ?? 'modelled';
  const measured: (Measured & { readonly label: string })[] = [];
  const parts = partsOf(options);
  if ((options.snapshot !== undefined || resume !== undefined || options.moves !== undefined) && parts.length > 1) throw new CliError(`workload ${options.workload} is a mix of VMs run one after another: snapshot or move devices in one workload`);
  const late = (options.moves ?? []).find((m) => m.atNs >= options.durationNs);
  if (late !== undefined) throw new CliError(`--move ${late.device}:${late.to}@${late.atNs / 1e6}ms is not before the end of the run (--duration ${options.durationNs / 1e6} ms)`);
  if (options.recover !== undefined) checkRecoverable(options, mode, parts.length);
  if (options.snapshot !== undefined && options.snapshot.atNs >= options.durationNs) throw new CliError(`--snapshot-at ${options.snapshot.atNs / 1e6} ms is not before the end of the run (--duration ${options.durationNs / 1e6} ms)`);
  // A mix's parts run one after another: the progress is the guest time of those done and of the one running.
  let before = 0;
  for (const part of parts) {
    const base = before;
    measured.push({ label: part.label, ...await measure(placement, part.workload, options, part.durationNs, mode, onProgress === undefined ? undefined : (now) => { onProgress(base + now, options.durationNs); }, resume) });
    before += part.durationNs;
  }

  const rows = measured.flatMap((m) => m.rows);
  const sum = (of: (m: Measured) => number) => measured.reduce((total, m) => total + of(m), 0);
  const guestCycles = sum((m) => m.guestCycles);
  const latency = new Histogram();
  const wall = new Map<string, Histogram>();
  const lateness = new Map<string, Histogram>();
  for (const m of measured) {
    latency.merge(m.latency);
    mergeInto(wall, m.wall);
    mergeInto(lateness, m.lateness);
  }
  const progress = Object.fromEntries(measured.flatMap((m) => Object.entries(m.progress).map(([what, n]) => [m.label === '' ? what : `${m.label} ${what}`, n])));
  return {
    profile: name,
    irqchip: measured[0]?.irqchip ?? '',
    mode,
    costModel: model.name,
    time: placement.time.kind,
    interrupts: sum((m) => m.interrupts),
    irqWindows: sum((m) => m.irqWindows),
    guestCycles,
    guestNs: sum((m) => m.guestNs),
    ...exitReport(rows, model, guestCycles),
    interruptLatencyNs: percentiles(latency),
    timerLatenessNs: byName(lateness),
    ...(mode === 'live' || options.timeCrossings === true ? { wallNs: byName(wall) } : {}),
    ...(options.timeCrossings === true ? { runWallNs: sum((m) => m.runWallNs) } : {}),
    unmodelled: [...new Set(measured.flatMap((m) => m.unmodelled))],
    console: measured.map((m) => m.console).join(''),
    debugConsole: measured.map((m) => m.debugConsole).join(''),
    progress,
    ...(measured[0]?.timeline === undefined ? {} : { timeline: measured[0].timeline }),
    ...(measured[0]?.snapshot === undefined ? {} : { snapshot: measured[0].snapshot }),
    ...(measured[0]?.moves === undefined ? {} : { moves: measured[0].moves }),
    ...(measured[0]?.recovery === undefined ? {} : { recovery: measured[0].recovery }),
    ...(resume === undefined ? {} : { resumedFrom: { dir: resume.dir, placement: resume.snapshot.placement, atNs: resume.snapshot.timeNs } }),
    savedByFastPath: {
      coalescing: sum((m) => m.saved.coalescing), cachedReads: sum((m) => m.saved.cachedReads),
      kernelCounters: sum((m) => m.saved.kernelCounters), programs: sum((m) => m.saved.programs), postedWrites: sum((m) => m.saved.postedWrites),
    },
  };
}

export function describeWorkload(options: WorkloadOptions): string {
  const given = Object.entries(options.parameters);
  const parameter = given.length === 0 ? '' : ` (${given.map(([name, value]) => `${name} ${value}`).join(', ')})`;
  const vgaBios = options.firmware === undefined ? undefined : vgaBiosFile(options.firmware, options.vgaBios);
  const roms = [...(vgaBios === undefined ? [] : [`VGA BIOS ${vgaBios}`]), ...(options.optionRoms ?? []).map((file) => `option ROM ${file}`)];
  const guest = options.firmware === undefined ? `workload ${options.workload}${parameter}` : `firmware ${options.firmware}${roms.length === 0 ? '' : ` (${roms.join(', ')})`}`;
  return `${guest}, ${options.durationNs / 1e6} ms of guest time, ${options.mode ?? 'modelled'}`;
}
