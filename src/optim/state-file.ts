// An optimizer's saved state on disk: a JSON manifest (format, counters, each
// tensor's name, dtype, shape and byte range) beside one binary file of the
// values, written atomically. Values round-trip bit for bit.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tensor/tf.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { OptimizerCounters, SavedOptimizerState } from './optimizer.js';

interface Manifest {
  format: 'optimizer-state/1';
  counters: OptimizerCounters;
  tensors: { name: string; dtype: 'float32' | 'int32'; shape: number[]; offset: number; bytes: number }[];
}

const MANIFEST = 'optimizer.json';
const VALUES = 'optimizer.bin';

function writeAtomic(path: string, data: string | Uint8Array): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** Writes the state into `dir` (created if needed); reads the tensors back from the backend once. */
export async function writeOptimizerState(dir: string, saved: SavedOptimizerState): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const entries = Object.entries(saved.tensors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const chunks: Uint8Array[] = [];
  const manifest: Manifest = { format: saved.format, counters: saved.counters, tensors: [] };
  let offset = 0;
  for (const [name, t] of entries) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32')
      throw new Error(`optimizer state ${name}: dtype ${t.dtype} cannot be saved`);
    const values = (await t.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(bytes);
    manifest.tensors.push({ name, dtype: t.dtype, shape: t.shape, offset, bytes: bytes.byteLength });
    offset += bytes.byteLength;
  }
  const all = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  writeAtomic(join(dir, VALUES), all);
  writeAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 1));
}

/** Reads a state written by writeOptimizerState; the caller disposes the tensors (after Optimizer.load copies them). */
export function readOptimizerState(dir: string): SavedOptimizerState {
  const where = join(dir, MANIFEST);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(where, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  if (manifest.format !== 'optimizer-state/1' || !Array.isArray(manifest.tensors))
    throw new Error(`${where}: not an optimizer state (format "optimizer-state/1")`);
  const data = readFileSync(join(dir, VALUES));
  const tensors: NamedTensors = {};
  for (const e of manifest.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.bytes !== size * 4 || e.offset + e.bytes > data.byteLength)
      throw new Error(`${where}: ${e.name} does not fit ${VALUES} (truncated or corrupt)`);
    const copy = new Uint8Array(e.bytes);
    copy.set(data.subarray(e.offset, e.offset + e.bytes));
    const values = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
  }
  return { format: 'optimizer-state/1', counters: manifest.counters, tensors };
}
