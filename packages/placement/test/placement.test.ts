import { describe, expect, it } from 'vitest';
import type { PlacementFile } from '../src/index.ts';
import { DEVICES, PROFILES, irqchipMode, profile, validatePlacement } from '../src/index.ts';

function place(overrides: Partial<PlacementFile> & { devices?: Record<string, string> }): unknown {
  const base = profile('kvm-irqchip');
  if (base === undefined) throw new Error('kvm-irqchip profile');
  return { ...base, ...overrides };
}

describe('profiles', () => {
  it.each(PROFILES.map((p) => [p.name, p] as const))('%s validates, places every device, and says what it models', (_name, file) => {
    const result = validatePlacement(file);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(Object.keys(result.placement.devices).sort()).toEqual([...DEVICES].sort());
    expect(result.placement.models.length).toBeGreaterThan(40);
  });

  it('names the irqchip mode in KVM\'s terms', () => {
    const modes = Object.fromEntries(PROFILES.map((p) => {
      const result = validatePlacement(p);
      return [p.name, result.ok ? irqchipMode(result.placement) : 'invalid'];
    }));
    expect(modes).toEqual({
      'qemu-tcg': 'userspace', 'kvm-irqchip': 'in-kernel', 'kvm-kernel-counters': 'in-kernel', 'kvm-userspace-pit': 'in-kernel', 'kvm-split': 'split', 'kvm-userspace-irqchip': 'userspace',
      plex86: 'monitor', firecracker: 'in-kernel', 'all-kernel': 'in-kernel', 'all-monitor': 'monitor',
    });
  });

  it('fills in the default policies: guest-cycle time, exact delivery; KVM\'s profiles have exits take guest time', () => {
    const result = validatePlacement(profile('plex86'));
    expect(result.ok && [result.placement.time, result.placement.delivery]).toEqual([{ kind: 'guest-cycles' }, { kind: 'exact' }]);
    const kvm = validatePlacement(profile('kvm-irqchip'));
    expect(kvm.ok && kvm.placement.time).toEqual({ kind: 'guest-and-exits' });
  });
});

describe('validation explains itself', () => {
  const problems = (input: unknown) => {
    const result = validatePlacement(input);
    return result.ok ? [] : result.problems;
  };

  it('names an unknown device, and lists the known ones', () => {
    expect(problems(place({ devices: { ...profile('kvm-irqchip')?.devices, sound: 'user' } }))).toEqual([
      expect.stringMatching(/^devices\.sound: unknown device "sound" \(known: pic, ioapic, lapic, pit/),
    ]);
  });

  it('takes each I/O fast path for every device that offers it, for the devices named, or none; and names a device it does not know', () => {
    const io = (set: Record<string, unknown>) => place({ io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false, ...set } });
    const some = validatePlacement(io({ cachedReads: ['keyboard', 'disk'], programs: true }));
    expect(some.ok && some.placement.io).toMatchObject({ cachedReads: ['keyboard', 'disk'], programs: true });
    expect(problems(io({ programs: ['pit', 'sound'] }))).toEqual([expect.stringMatching(/^io\.programs: expected true \(every device that offers it\), false, or a non-empty list of the board's devices \(known: pic, ioapic/)]);
    expect(problems(io({ cachedReads: [] }))).toEqual(['io.cachedReads: an empty list: name at least one device, or say false']);
  });

  it('names a device left unplaced', () => {
    const { rtc: _rtc, ...rest } = profile('kvm-irqchip')?.devices ?? {};
    expect(problems(place({ devices: rest }))).toEqual(['devices.rtc: not placed (every device needs a domain — kernel, monitor, user — or absent)']);
  });

  it('refuses a domain that does not exist', () => {
    expect(problems(place({ devices: { ...profile('kvm-irqchip')?.devices, vga: 'gpu' as 'user' } }))).toEqual([
      expect.stringMatching(/^devices\.vga: Invalid option: expected one of "kernel"\|"monitor"\|"user"\|"absent"/),
    ]);
  });

  it('keeps the 8259 and the I/O APIC together, saying why', () => {
    expect(problems(place({ devices: { ...profile('kvm-irqchip')?.devices, ioapic: 'user', pit: 'user' } }))).toEqual([
      'devices: pic (kernel) and ioapic (user) must share a domain: the 8259 and the I/O APIC share ISA irq lines and the ExtINT path (KVM creates both with KVM_CREATE_IRQCHIP, or neither)',
    ]);
  });

  it('refuses a kernel PIT without a kernel irqchip, as KVM does', () => {
    expect(problems(place({ devices: { ...profile('kvm-split')?.devices, pit: 'kernel' } }))).toEqual([
      'devices.pit: the PIT can be in the kernel only with the PIC and I/O APIC there too (KVM_CREATE_PIT2 requires KVM_CREATE_IRQCHIP)',
    ]);
  });

  it('keeps the floppy controller with its DMA channel, unless the floppy is absent', () => {
    expect(problems(place({ devices: { ...profile('kvm-irqchip')?.devices, dma: 'kernel' } }))).toHaveLength(1);
    expect(problems(place({ devices: { ...profile('kvm-irqchip')?.devices, floppy: 'absent', dma: 'kernel' } }))).toEqual([]);
  });

  it('checks the policies and the name', () => {
    expect(problems(place({ name: 'Bad Name', time: { kind: 'contracted', factor: -1 } as never }))).toEqual([
      'name: a profile name is lower-case letters, digits and dashes',
      expect.stringMatching(/^time\.factor: /),
    ]);
    expect(problems(place({ delivery: { kind: 'host-tick', hz: 250 } }))).toEqual([]);
  });
});
