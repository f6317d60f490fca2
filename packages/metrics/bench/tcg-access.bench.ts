// What a device access costs under QEMU's TCG, measured here: Debian's qemu-system-x86_64 boots a 512-byte boot
// sector that reads an I/O port N times in a loop (`in al, dx`), then leaves through isa-debug-exit; the same
// loop with a `nop` in place of the `in` is the baseline. (run − baseline) / N is one access from translated
// code: the helper call and the memory-region dispatch to the device model. The `tcg` cost model's exit is
// this figure for port 80h (a device model that does nothing), in cycles of this machine's clock.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureSync, report } from '@splitvisor/bench';

const QEMU = 'qemu-system-x86_64';
const ACCESSES = 10_000_000;
const IN_AL_DX = 0xec;
const NOP = 0x90;

/** A boot sector: `cli; mov ecx, n; mov dx, port; l: <op>; dec ecx; jnz l;` then out 0 to isa-debug-exit at F4h and halt. */
function bootSector(n: number, op: number, port: number): Uint8Array {
  const sector = new Uint8Array(512);
  sector.set([
    0xfa, 0x66, 0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff, 0xba, port & 0xff, port >> 8,
    op, 0x66, 0x49, 0x75, 0xfb, // l: op; dec ecx; jnz l
    0xba, 0xf4, 0x00, 0xb0, 0x00, 0xee, 0xf4, 0xeb, 0xfd, // mov dx, F4h; mov al, 0; out dx, al; hlt; jmp $-1
  ]);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

const version = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  console.log(`tcg-access: skipped — ${QEMU} is not installed here (Debian: apt-get install qemu-system-x86)`);
  process.exit(0);
}
const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? Number.NaN);
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-tcg-'));
try {
  const boot = (name: string, op: number, port: number) => {
    const file = join(dir, `${name}.img`);
    writeFileSync(file, bootSector(ACCESSES, op, port));
    return () => {
      const run = spawnSync(QEMU, ['-accel', 'tcg', '-display', 'none', '-no-reboot', '-m', '16', '-drive', `format=raw,file=${file}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']);
      if (run.status !== 1) throw new Error(`${QEMU} did not leave through isa-debug-exit (status ${run.status}): ${run.stderr.toString().slice(0, 200)}`);
    };
  };
  const options = { opsPerBatch: 1, batches: 5, warmupBatches: 1 };
  const cases: [string, number, number, string][] = [
    ['loop without an access', NOP, 0x80, 'the baseline'],
    ['in al, 80h (ioport80: does nothing)', IN_AL_DX, 0x80, 'the tcg model\'s exit'],
    ['in al, 21h (8259 IMR)', IN_AL_DX, 0x21, ''],
    ['in al, 61h (port B: PIT channel 2, speaker)', IN_AL_DX, 0x61, ''],
  ];
  const measured = cases.map(([name, op, port, note]) => ({ name, note, medianNs: measureSync(boot(name.replace(/\W+/g, '-'), op, port), options).medianNs }));
  report(`QEMU TCG (${version.stdout.trim().split('\n')[0] ?? QEMU}): ${ACCESSES.toLocaleString('en-US')} accesses per boot, median of 5 boots`, measured, 'loop without an access');
  const baseline = measured[0]?.medianNs ?? 0;
  for (const { name, medianNs } of measured.slice(1)) {
    const ns = (medianNs - baseline) / ACCESSES;
    console.log(`${name}: ${ns.toFixed(1)} ns per access = ${Math.round(ns * mhz / 1000)} cycles at ${mhz} MHz`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
