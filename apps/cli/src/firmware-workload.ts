/**
 * `--firmware FILE`: the guest is real firmware — a PC BIOS image (Debian's
 * SeaBIOS, /usr/share/seabios/bios-256k.bin) run by the x86 CPU from the
 * reset vector over the VM's RAM — in place of a workload's scripted guest.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_MEMORY_BYTES, VmError, checkBiosImage, firmwareCpu } from '@splitvisor/vmm';
import type { Workload } from '@splitvisor/workloads';
import { CliError } from './cli-error.ts';

/** A firmware run's guest: the CPU and the RAM it runs from, which the VM must use too. */
export interface FirmwareWorkload extends Workload {
  readonly cpu: ReturnType<typeof firmwareCpu>;
  readonly ram: SharedArrayBuffer;
}

export function isFirmware(workload: Workload): workload is FirmwareWorkload {
  return 'ram' in workload;
}

/** The image in `file`, checked, and a CPU at its reset vector; one line naming the problem otherwise. */
export function firmwareWorkload(file: string): FirmwareWorkload {
  let image: Uint8Array;
  try {
    image = new Uint8Array(readFileSync(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`--firmware ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not an image' : String(error)}`);
  }
  try {
    const ram = new SharedArrayBuffer(DEFAULT_MEMORY_BYTES);
    const cpu = firmwareCpu(checkBiosImage(image, file), ram);
    return { guest: cpu, cpu, ram, progress: () => ({ halted: cpu.halted ? 1 : 0 }) };
  } catch (error) {
    if (error instanceof VmError) throw new CliError(`--firmware ${error.message}`);
    throw error;
  }
}

/** A firmware CPU that stopped for good (a triple fault, an instruction it cannot run): one line with where, why, its state and its last instructions. */
export function firmwareStop(workload: Workload): CliError | undefined {
  if (!isFirmware(workload)) return undefined;
  const fault = workload.cpu.fault;
  if (fault === undefined) return undefined;
  const at = `${fault.cs.toString(16).padStart(4, '0')}:${fault.eip.toString(16).padStart(8, '0')}`;
  const last = fault.lastInstructions.map((a) => a.toString(16)).join(' ');
  return new CliError(`the firmware stopped the CPU at ${at}: ${fault.reason}; ${fault.state}; last instructions at ${last}`);
}
