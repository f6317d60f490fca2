/**
 * A snapshot on disk: a folder holding `manifest.json` — what it is, the
 * run it came from, its size by part, and the SHA-256 of the state — and
 * `state.msgpack`, the `VmSnapshot` in the abi's canonical MessagePack (the
 * codec device states cross the channel in). The format is versioned
 * (`SNAPSHOT_FILE_VERSION`); each device's record carries its own version,
 * which its device migrates or refuses when the snapshot is restored.
 *
 * Reading refuses, in one line naming the file and the problem, a folder
 * that is not a snapshot, a newer format, a state file of the wrong size
 * (truncated) or checksum (corrupt), or bytes that are not a snapshot.
 * Writing goes to a temporary folder renamed into place at the end: an
 * interrupted write leaves no half snapshot, and an existing folder is
 * never written into.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PlainValue } from '@splitvisor/abi';
import { decodeState, encodeState } from '@splitvisor/abi';
import type { VmSnapshot } from './vm-snapshot.ts';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './vm-snapshot.ts';

export const SNAPSHOT_FILE_FORMAT = 'splitvisor-snapshot';
export const SNAPSHOT_FILE_VERSION = 1;
const MANIFEST = 'manifest.json';
const STATE = 'state.msgpack';

/** A snapshot folder that cannot be read or written, said in one line naming the file. */
export class SnapshotFileError extends Error {
  override readonly name = 'SnapshotFileError';
}

/** What a snapshot's parts take in its state file, in bytes (each part's encoded record). */
export interface SnapshotSizes {
  readonly total: number;
  readonly devices: Readonly<Record<string, number>>;
  readonly vcpus: readonly number[];
  readonly ram: number;
  readonly console: number;
}

export interface SnapshotManifest {
  readonly format: typeof SNAPSHOT_FILE_FORMAT;
  readonly version: number;
  readonly placement: string;
  readonly timeNs: number;
  readonly state: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly sizes: SnapshotSizes;
  /** What the caller keeps with it (the CLI: the workload, its parameters, the run's length, the placement). */
  readonly run: unknown;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Each part's encoded size (a record's size in MessagePack: what it adds to the file, give or take its key). */
function sizesOf(snapshot: VmSnapshot, total: number): SnapshotSizes {
  const sized = (value: PlainValue) => encodeState({ model: 'size', version: 1, value }).length;
  return {
    total,
    devices: Object.fromEntries(snapshot.devices.map((d) => [d.name, encodeState(d.state).length])),
    vcpus: snapshot.vcpus.map((v) => encodeState(v.cpu).length),
    ram: sized(snapshot.ram),
    console: snapshot.console.length,
  };
}

/** Writes `snapshot` to the folder `dir` (which must not exist, or be empty), with `run` in its manifest. */
export function writeSnapshot(dir: string, snapshot: VmSnapshot, run: unknown): SnapshotManifest {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new SnapshotFileError(`${dir}: the folder exists and is not empty (a snapshot is never written over anything)`);
  const state = encodeState(snapshot);
  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FILE_FORMAT, version: SNAPSHOT_FILE_VERSION, placement: snapshot.placement, timeNs: snapshot.timeNs,
    state: { file: STATE, bytes: state.length, sha256: sha256(state) }, sizes: sizesOf(snapshot, state.length), run,
  };
  const staging = join(dirname(dir), `.${basename(dir)}.${process.pid}.partial`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    writeFileSync(join(staging, STATE), state);
    writeFileSync(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existsSync(dir)) rmSync(dir, { recursive: true }); // empty, checked above
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new SnapshotFileError(`${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return manifest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the manifest of the snapshot in `dir`, checked. */
export function readManifest(dir: string): SnapshotManifest {
  const file = join(dir, MANIFEST);
  if (!existsSync(dir)) throw new SnapshotFileError(`${dir}: no such snapshot folder`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SnapshotFileError(`${file}: missing (not a snapshot folder)`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new SnapshotFileError(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(manifest) || manifest.format !== SNAPSHOT_FILE_FORMAT) throw new SnapshotFileError(`${file}: not a splitvisor snapshot manifest (format is not "${SNAPSHOT_FILE_FORMAT}")`);
  if (manifest.version !== SNAPSHOT_FILE_VERSION) {
    throw new SnapshotFileError(`${file}: snapshot format version ${String(manifest.version)}; this splitvisor reads version ${SNAPSHOT_FILE_VERSION}`);
  }
  const state = manifest.state;
  if (!isRecord(state) || typeof state.file !== 'string' || basename(state.file) !== state.file || typeof state.bytes !== 'number' || typeof state.sha256 !== 'string') {
    throw new SnapshotFileError(`${file}: its "state" entry must name a file in the folder with its bytes and sha256`);
  }
  return manifest as unknown as SnapshotManifest;
}

/** Reads the snapshot in `dir`: its manifest and its state, checked against the manifest's size and checksum. */
export function readSnapshot(dir: string): { readonly manifest: SnapshotManifest; readonly snapshot: VmSnapshot } {
  const manifest = readManifest(dir);
  const file = join(dir, manifest.state.file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new SnapshotFileError(`${file}: missing`);
  }
  if (bytes.length !== manifest.state.bytes) throw new SnapshotFileError(`${file}: ${bytes.length} bytes where the manifest says ${manifest.state.bytes} (truncated or replaced)`);
  if (sha256(bytes) !== manifest.state.sha256) throw new SnapshotFileError(`${file}: checksum does not match the manifest's (the file is corrupt)`);
  const decoded = decodeState(bytes);
  if (!decoded.ok) throw new SnapshotFileError(`${file}: ${decoded.reason}`);
  const { state } = decoded;
  if (state.model !== SNAPSHOT_FORMAT) throw new SnapshotFileError(`${file}: holds ${state.model}, not a VM snapshot`);
  if (state.version !== SNAPSHOT_VERSION) throw new SnapshotFileError(`${file}: VM snapshot version ${state.version}; this splitvisor restores version ${SNAPSHOT_VERSION}`);
  if (!Array.isArray(state.vcpus) || !Array.isArray(state.devices) || !Array.isArray(state.lines) || !Array.isArray(state.ram) || !(state.console instanceof Uint8Array)) {
    throw new SnapshotFileError(`${file}: a VM snapshot's vcpus, devices, lines, ram and console are missing or of the wrong kind`);
  }
  return { manifest, snapshot: state as unknown as VmSnapshot };
}
