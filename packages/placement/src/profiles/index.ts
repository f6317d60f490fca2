/**
 * Named placements modelled on real systems. Each says what it models and
 * where that comes from; `splitvisor profiles` lists them.
 */
import type { DeviceName } from '../devices.ts';
import { DEVICES } from '../devices.ts';
import type { PlacementFile, Where } from '../schema.ts';

/** KVM's guests (and QEMU's virtual clock) see the time their exits take: the TSC runs on while the vCPU is out. */
const EXITS_TAKE_TIME = { kind: 'guest-and-exits' } as const;

/**
 * KVM's in-kernel PIT re-injects the ticks a guest missed, one per ack (reinject is on unless userspace
 * turns it off with KVM_REINJECT_CONTROL; QEMU's kvm-pit defaults to lost_tick_policy=delay, Firecracker never
 * changes it).
 */
const KVM_PIT_REINJECTS = { pit: 'delay' } as const;

const everywhere = (where: Where): Record<DeviceName, Where> => Object.fromEntries(DEVICES.map((d) => [d, where])) as Record<DeviceName, Where>;

export const PROFILES: readonly PlacementFile[] = [
  {
    name: 'qemu-tcg',
    description: 'every device in userspace',
    models: 'QEMU without an accelerator (-accel tcg): the CPU and every device model run in the QEMU process; each device access is a call into its MemoryRegionOps, the costliest placement.',
    time: EXITS_TAKE_TIME,
    devices: everywhere('user'),
    costModel: 'tcg',
  },
  {
    name: 'kvm-irqchip',
    description: 'PIC, I/O APIC, LAPIC and PIT in the kernel; the rest in userspace',
    models: "KVM with QEMU's default kernel-irqchip=on: KVM_CREATE_IRQCHIP (8259 pair, I/O APIC, local APICs) and KVM_CREATE_PIT2 in the kernel; RTC, ACPI PM timer, HPET, keyboard, VGA, floppy, IDE (its disk and its CD-ROM), serial, the parallel port, port 92h, fw_cfg, the debug console and the PCI host (i440FX/PIIX configuration space) in QEMU (linux/arch/x86/kvm/{i8259,ioapic,lapic,i8254}.c; QEMU hw/i386/kvm/). QEMU registers coalesced PIO for the RTC index port and coalesced MMIO for VGA.",
    time: EXITS_TAKE_TIME,
    devices: { ...everywhere('user'), pic: 'kernel', ioapic: 'kernel', lapic: 'kernel', pit: 'kernel' },
    lostTicks: KVM_PIT_REINJECTS,
    io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false },
  },
  {
    name: 'kvm-kernel-counters',
    description: 'as kvm-irqchip, and the kernel serves the PM timer and HPET counters that stay in userspace',
    models: "Seed 002's proposal for KVM: instead of moving the PM timer or HPET into the kernel, QEMU registers each free-running counter (width, frequency, base) with the kernel, which answers reads of it from the guest's time without a userspace exit; writes and the rest of each device stay in QEMU.",
    time: EXITS_TAKE_TIME,
    devices: { ...everywhere('user'), pic: 'kernel', ioapic: 'kernel', lapic: 'kernel', pit: 'kernel' },
    lostTicks: KVM_PIT_REINJECTS,
    io: { coalescedWrites: true, cachedReads: false, kernelCounters: true, programs: false },
  },
  {
    name: 'kvm-userspace-pit',
    description: 'PIC, I/O APIC and LAPIC in the kernel; the PIT and the rest in userspace',
    models: "KVM's in-kernel irqchip with QEMU's own 8254 (qemu-kvm -no-kvm-pit; QEMU's i8254 when KVM_CREATE_PIT2 is not used): every PIT access and every tick's irq line crosses to userspace — the question seed 002 argues about.",
    time: EXITS_TAKE_TIME,
    devices: { ...everywhere('user'), pic: 'kernel', ioapic: 'kernel', lapic: 'kernel' },
    io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false },
  },
  {
    name: 'kvm-split',
    description: 'LAPIC in the kernel; PIC, I/O APIC and PIT in userspace',
    models: 'KVM_CAP_SPLIT_IRQCHIP (QEMU -machine kernel-irqchip=split): local APICs in KVM, the 8259 pair and I/O APIC in QEMU, and so the PIT too (an in-kernel PIT needs the in-kernel irqchip). I/O APIC EOIs reach QEMU as KVM_EXIT_IOAPIC_EOI.',
    time: EXITS_TAKE_TIME,
    devices: { ...everywhere('user'), lapic: 'kernel' },
    io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false },
  },
  {
    name: 'kvm-userspace-irqchip',
    description: 'every device in userspace, the CPU in KVM',
    models: 'KVM without KVM_CREATE_IRQCHIP (QEMU -machine kernel-irqchip=off): interrupts are injected with KVM_INTERRUPT when KVM_EXIT_IRQ_WINDOW_OPEN says the guest can take one.',
    time: EXITS_TAKE_TIME,
    devices: everywhere('user'),
    io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false },
  },
  {
    name: 'plex86',
    description: 'timers and interrupt controllers in the monitor; the rest in userspace',
    models: 'plex86 as Kevin Lawton proposed it (seed 000): "parts of all of some particular devices such as the timer and interrupt controller chips can likely be moved into the monitor domain"; the RTC, keyboard, video, floppy and disk (the CD-ROM with it) stay in the user program. Writes are cached in the monitor (seed 003).',
    devices: { ...everywhere('user'), pic: 'monitor', ioapic: 'monitor', lapic: 'monitor', pit: 'monitor' },
    io: { coalescedWrites: true, cachedReads: true, kernelCounters: false, programs: false },
  },
  {
    name: 'firecracker',
    description: 'KVM irqchip and PIT; serial and i8042 in userspace; no legacy VGA, floppy, IDE (disk or CD-ROM), parallel port, RTC, HPET, PM timer, PCI or firmware devices',
    models: 'Firecracker on x86-64: KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2, a 16550 serial port and an i8042 (for reset) in the VMM process, virtio for block and network instead of legacy devices (firecracker src/vmm/src/device_manager/legacy.rs: no parallel port either); no firmware runs (it loads the kernel itself), so no fw_cfg, port 92h or debug console; no PCI configuration space at CF8h either (its virtio devices are virtio-mmio, named on the kernel command line, whose default says pci=off: src/vmm/src/vmm_config/boot_source.rs DEFAULT_KERNEL_CMDLINE).',
    time: EXITS_TAKE_TIME,
    devices: {
      ...everywhere('absent'), pic: 'kernel', ioapic: 'kernel', lapic: 'kernel', pit: 'kernel', serial: 'user', keyboard: 'user',
    },
    lostTicks: KVM_PIT_REINJECTS,
  },
  {
    name: 'all-kernel',
    description: 'every device in the kernel',
    models: 'A bound, not a product: what the guest would cost if every device model ran on the lightweight-exit path (the "bytecode/jit facility" wished for in seed 002).',
    time: EXITS_TAKE_TIME,
    devices: everywhere('kernel'),
    io: { coalescedWrites: false, cachedReads: false, kernelCounters: true, programs: false },
  },
  {
    name: 'all-monitor',
    description: 'every device in the monitor',
    models: 'A bound, not a product: every device handled without leaving the monitor, as plex86 hoped for the timers, stretched to every device.',
    devices: everywhere('monitor'),
  },
];

export function profile(name: string): PlacementFile | undefined {
  return PROFILES.find((p) => p.name === name);
}
