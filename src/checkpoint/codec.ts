// A snapshot tree on disk: JSON with every array and tensor replaced by a
// reference into one binary blob. Non-finite numbers survive (JSON has none).
import { tf } from '../tensor/tf.js';
import type { Snapshot, SnapshotValue } from '../contracts/snapshot.js';

type ArrayKind = 'f32' | 'i32' | 'u8';
interface BlobRef {
  /** A host array, or a tensor when `shape` is present. */
  $blob: ArrayKind;
  offset: number;
  length: number;
  shape?: number[];
}

/** An encoded tree: JSON-safe structure plus the bytes it refers to. */
export interface EncodedSnapshot {
  json: unknown;
  blob: Uint8Array;
}

const KIND_OF = (a: Float32Array | Int32Array | Uint8Array): ArrayKind =>
  a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** Reads every tensor of the tree back from the backend (one await each) and lays out the bytes. */
export async function encodeSnapshot(tree: Snapshot): Promise<EncodedSnapshot> {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (bytes: Uint8Array): number => {
    // 4-byte alignment lets decode view the bytes as 32-bit arrays without copying the whole blob.
    const at = offset;
    chunks.push(bytes);
    offset += bytes.byteLength;
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    return at;
  };
  const walk = async (v: SnapshotValue, path: string): Promise<unknown> => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
    if (isTensor(v)) {
      if (v.isDisposed) throw new Error(`checkpoint: tensor ${path} is already disposed`);
      const data = await v.data();
      const kind: ArrayKind =
        v.dtype === 'float32'
          ? 'f32'
          : v.dtype === 'int32'
            ? 'i32'
            : v.dtype === 'bool'
              ? 'u8'
              : (() => {
                  throw new Error(`checkpoint: tensor ${path} has dtype ${v.dtype}, which cannot be saved`);
                })();
      const typed =
        kind === 'f32'
          ? Float32Array.from(data as Float32Array)
          : kind === 'i32'
            ? Int32Array.from(data as Int32Array)
            : Uint8Array.from(data as Uint8Array);
      return {
        $blob: kind,
        offset: put(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength)),
        length: typed.length,
        shape: [...v.shape],
      } satisfies BlobRef;
    }
    if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) {
      return {
        $blob: KIND_OF(v),
        offset: put(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)),
        length: v.length,
      } satisfies BlobRef;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, x] of (v as SnapshotValue[]).entries()) out.push(await walk(x, `${path}[${i}]`));
      return out;
    }
    if (typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith('$'))
          throw new Error(`checkpoint: key ${path}.${k} starts with '$', which the format reserves`);
        out[k] = await walk(x, `${path}.${k}`);
      }
      return out;
    }
    throw new Error(`checkpoint: ${path} is a ${typeof v}, which a snapshot cannot hold`);
  };
  const json = await walk(tree, 'snapshot');
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.byteLength;
  }
  return { json, blob };
}

/**
 * Rebuilds a tree; tensors are created on the current backend (outside any
 * tidy: the caller owns them). A reference outside the blob is an error
 * naming the path, never a short read.
 */
export function decodeSnapshot(json: unknown, blob: Uint8Array, where: string): Snapshot {
  const walk = (v: unknown, path: string): SnapshotValue => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v !== 'object') throw new Error(`${where}: ${path} is not a snapshot value`);
    const o = v as Record<string, unknown>;
    if ('$number' in o) return Number(o.$number);
    if ('$blob' in o) {
      const ref = o as unknown as BlobRef;
      const width = ref.$blob === 'u8' ? 1 : 4;
      if (
        !['f32', 'i32', 'u8'].includes(ref.$blob) ||
        !Number.isInteger(ref.offset) ||
        !Number.isInteger(ref.length) ||
        ref.offset < 0 ||
        ref.offset + ref.length * width > blob.byteLength
      ) {
        throw new Error(`${where}: ${path} refers to bytes beyond the data file (truncated or corrupt)`);
      }
      const bytes = blob.slice(ref.offset, ref.offset + ref.length * width);
      const typed =
        ref.$blob === 'f32'
          ? new Float32Array(bytes.buffer)
          : ref.$blob === 'i32'
            ? new Int32Array(bytes.buffer)
            : bytes;
      if (!ref.shape) return typed;
      if (ref.shape.reduce((a, b) => a * b, 1) !== ref.length)
        throw new Error(`${where}: ${path} has shape [${ref.shape}] but ${ref.length} values`);
      return tf.tensor(typed, ref.shape, ref.$blob === 'f32' ? 'float32' : ref.$blob === 'i32' ? 'int32' : 'bool');
    }
    const out: Record<string, SnapshotValue> = {};
    for (const [k, x] of Object.entries(o)) out[k] = walk(x, `${path}.${k}`);
    return out;
  };
  return walk(json, 'snapshot') as Snapshot;
}

/** Every tensor in a decoded tree (to free what a restore did not take). */
export function tensorsOf(tree: SnapshotValue): tf.Tensor[] {
  if (isTensor(tree)) return [tree];
  if (Array.isArray(tree)) return tree.flatMap(tensorsOf);
  if (
    tree &&
    typeof tree === 'object' &&
    !(tree instanceof Float32Array || tree instanceof Int32Array || tree instanceof Uint8Array)
  )
    return Object.values(tree).flatMap((v) => tensorsOf(v));
  return [];
}
