/**
 * Makes the committed subset of the SingleStepTests 80286 suite
 * (github.com/SingleStepTests/80286, MIT, Daniel Balsom): the first N tests
 * of each v1_real_mode form, skipping revoked ones, written as MOO files
 * without their CYCL (bus cycle) chunks, gzipped, into
 * test/data/80286/v1_real_mode/, with the suite's LICENSE and revocation
 * list and a README saying where the subset came from.
 *
 *   node --import tsx scripts/subset-80286.ts [--mirror DIR] [--rev REV] [--per-file N]
 *
 * DIR is a clone (bare is enough) of the suite, REV the commit to take
 * (default HEAD), N defaults to PER_FILE. The output depends only on the
 * suite's commit and N (gzip headers carry no
 * time), so running it again reproduces the committed files byte for byte.
 *
 * The rest of every test is copied as it is, chunk by chunk (so GMET, which
 * the format document does not describe, survives). MOO readers skip chunks
 * they do not know and must not assume any follows another, so a TEST without
 * CYCL is a valid MOO test; its HASH still names the original test. The
 * header's and META's test counts are rewritten to N.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { MooTest } from '../test/single-step/moo.ts';
import { chunksOf, parseMoo, parseRevocationList } from '../test/single-step/moo.ts';

const PER_FILE = 50;
const DEFAULT_MIRROR = '/work/.mirror/SingleStepTests+80286/repo';
const SUITE_URL = 'https://github.com/SingleStepTests/80286';
const SOURCE_DIR = 'v1_real_mode';
const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'data', '80286');
/** The META payload's test count: after major, minor, cpu_type (1 byte each), opcode (4) and mnemonic (8). */
const META_TEST_COUNT = 15;
/** The MOO header payload's test count: after major, minor and two reserved bytes. */
const HEADER_TEST_COUNT = 4;

const { values } = parseArgs({
  options: {
    mirror: { type: 'string', default: DEFAULT_MIRROR },
    rev: { type: 'string', default: 'HEAD' },
    'per-file': { type: 'string', default: String(PER_FILE) },
  },
});
const mirror = values.mirror;
const perFile = Number.parseInt(values['per-file'], 10);
if (!Number.isInteger(perFile) || perFile < 1) throw new Error(`--per-file must be a positive integer, not ${values['per-file']}`);

function git(...args: string[]): Buffer {
  return execFileSync('git', ['-C', mirror, ...args], { maxBuffer: 1 << 28 });
}

/** Whether the clone holds the object (a partial mirror may list a file whose blob it lacks). */
function present(object: string): boolean {
  try {
    execFileSync('git', ['-C', mirror, 'cat-file', '-e', object], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function chunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  for (let i = 0; i < 4; i++) out[i] = type.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function withCount(payload: Uint8Array, offset: number, count: number): Uint8Array {
  const copy = payload.slice();
  new DataView(copy.buffer).setUint32(offset, count, true);
  return copy;
}

function hashOf(bytes: Uint8Array, start: number, end: number): string {
  for (const sub of chunksOf(bytes, start + 4, end)) {
    if (sub.type === 'HASH') return Buffer.from(bytes.subarray(sub.payload, sub.payload + sub.length)).toString('hex');
  }
  return '';
}

/** The first `count` unrevoked tests of a MOO file, as a MOO file without CYCL chunks. */
function subset(bytes: Uint8Array, count: number, revoked: ReadonlySet<string>): Uint8Array {
  const top: Uint8Array[] = [];
  const tests: Uint8Array[] = [];
  for (const c of chunksOf(bytes)) {
    const payload = bytes.subarray(c.payload, c.payload + c.length);
    if (c.type === 'TEST') {
      if (tests.length === count || revoked.has(hashOf(bytes, c.payload, c.payload + c.length))) continue;
      const kept = [payload.subarray(0, 4)]; // the test's index
      for (const sub of chunksOf(bytes, c.payload + 4, c.payload + c.length)) {
        if (sub.type !== 'CYCL') kept.push(bytes.subarray(sub.start, sub.payload + sub.length));
      }
      tests.push(chunk('TEST', concat(kept)));
    } else {
      top.push(chunk(c.type, payload));
    }
  }
  const counted = top.map((part) => {
    const type = String.fromCharCode(...part.subarray(0, 4));
    const payload = part.subarray(8);
    if (type === 'MOO ') return chunk(type, withCount(payload, HEADER_TEST_COUNT, tests.length));
    if (type === 'META' && payload.length >= META_TEST_COUNT + 4) return chunk(type, withCount(payload, META_TEST_COUNT, tests.length));
    return part;
  });
  return concat([...counted, ...tests]);
}

/** What a test holds apart from its cycles, to check the subset against its source. */
function comparable(test: MooTest): string {
  return JSON.stringify({ ...test, bytes: [...test.bytes] });
}

const commit = git('rev-parse', '--verify', `${values.rev}^{commit}`).toString().trim();
const revoked = parseRevocationList(git('show', `${commit}:revocation_list.txt`).toString());
const sources = git('ls-tree', '--name-only', commit, `${SOURCE_DIR}/`).toString().split('\n')
  .filter((path) => path.endsWith('.MOO.gz'))
  .sort();

const outForms = join(OUT_DIR, SOURCE_DIR);
rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(outForms, { recursive: true });

let totalBytes = 0;
let totalTests = 0;
const shortForms: string[] = [];
const missing: string[] = [];
for (const path of sources) {
  const name = path.slice(SOURCE_DIR.length + 1);
  if (!present(`${commit}:${path}`)) {
    missing.push(name);
    continue;
  }
  const source = new Uint8Array(gunzipSync(git('show', `${commit}:${path}`)));
  const moo = subset(source, perFile, revoked);
  const gz = gzipSync(moo, { level: 9 });
  writeFileSync(join(outForms, name), gz);

  // The subset must read back as the source's first tests, less their cycles.
  const original = parseMoo(source).tests.filter((test) => !revoked.has(test.hash)).slice(0, perFile);
  const copy = parseMoo(moo);
  if (copy.declaredTests !== copy.tests.length || copy.tests.length !== original.length
    || copy.tests.some((test, i) => comparable(test) !== comparable(original[i] ?? test))) {
    throw new Error(`${name}: the subset does not read back as the source's first ${perFile} tests`);
  }
  if (copy.tests.length < perFile) shortForms.push(`${name} (${copy.tests.length})`);
  totalBytes += gz.length;
  totalTests += copy.tests.length;
}

writeFileSync(join(OUT_DIR, 'LICENSE'), git('show', `${commit}:LICENSE`));
writeFileSync(join(OUT_DIR, 'revocation_list.txt'), git('show', `${commit}:revocation_list.txt`));
const forms = readdirSync(outForms).length;
writeFileSync(join(OUT_DIR, 'README.md'), `# SingleStepTests 80286, a subset

Test vectors recorded from a real 80286 (a Harris N80C286-12) by Daniel
Balsom with the ArduinoX86 controller: each runs one instruction from a
recorded initial state and gives the CPU's final registers and RAM. MIT
licence; see LICENSE (the suite's own, copied unchanged).

- Source: ${SUITE_URL}, commit \`${commit}\`, directory \`${SOURCE_DIR}/\`
  (the real-mode tests). The suite's README describes the method.
- Subset: the first ${perFile} tests of each of the ${forms} instruction forms
  (one file per opcode, or per opcode and ModRM reg field: \`D3.4.MOO.gz\`),
  ${totalTests} tests in ${totalBytes} bytes. Tests on \`revocation_list.txt\` are
  left out (${revoked.size === 0 ? 'it is empty at this commit' : `${revoked.size} hashes at this commit`}).
- Format: MOO (github.com/dbalsom/moo, \`doc/moo_format_v1.md\`), gzipped, each
  test as in the suite less its \`CYCL\` chunk (the bus cycles, which these
  tests do not check); the header's and \`META\`'s test counts say ${perFile}.
  \`HASH\` is the suite's, so a revoked hash still names its test.
${missing.length > 0 ? `- Left out: ${missing.join(', ')} — the clone this subset was made from lacked
  ${missing.length === 1 ? 'its blob' : 'their blobs'}; regenerating from a full clone adds ${missing.length === 1 ? 'it' : 'them'}
  (then add ${missing.length === 1 ? 'it' : 'them'} to \`FORMS\` in test/single-step/vectors-80286.test.ts).
` : ''}
Regenerate (from packages/cpu-x86, with a clone of the suite):

\`\`\`sh
git clone --bare ${SUITE_URL} /tmp/80286
node --import tsx scripts/subset-80286.ts --mirror /tmp/80286 --rev ${commit} --per-file ${perFile}
\`\`\`
`);

console.log(`${forms} forms, ${totalTests} tests, ${totalBytes} bytes (gzipped MOO) from ${commit}`);
if (missing.length > 0) console.log(`not in the clone, left out: ${missing.join(', ')}`);
if (shortForms.length > 0) console.log(`fewer than ${perFile} tests: ${shortForms.join(', ')}`);
