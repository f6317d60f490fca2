/**
 * Guest programs for the CPU's tests, assembled by Debian's nasm (`.ci/run`
 * installs it): flat binaries whose results the test reads back from RAM.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `source` assembled with `nasm -f bin`; throws with nasm's message when it does not assemble, or names the package when nasm is missing. */
export function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'splitvisor-nasm-'));
  try {
    writeFileSync(join(dir, 'guest.asm'), source);
    try {
      execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'guest.bin'), join(dir, 'guest.asm')], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('nasm is not installed (Debian package nasm; .ci/run installs it)');
      throw new Error(`nasm: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    }
    return new Uint8Array(readFileSync(join(dir, 'guest.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
