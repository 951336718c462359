// The IDX format (MNIST, Fashion-MNIST, KMNIST): two zero bytes, a type byte,
// a rank byte, one big-endian uint32 per dimension, then the data big-endian.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export class IdxFormatError extends Error {}

const TYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  0x08: { name: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', bytes: 2, read: (v, o) => v.getInt16(o, false) },
  0x0c: { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, false) },
  0x0d: { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, false) },
  0x0e: { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o, false) },
};

export interface IdxArray {
  readonly dtype: string;
  readonly shape: number[];
  /** uint8 data is returned as-is (no copy); other types as float64. */
  readonly data: Uint8Array | Float64Array;
}

/** Parses an IDX buffer; `source` names it in errors. Gzipped input is accepted. */
export function parseIdx(input: Uint8Array, source = 'IDX data'): IdxArray {
  let bytes = input;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new IdxFormatError(`${source}: gzip data is corrupt (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new IdxFormatError(`${source}: too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = TYPES[bytes[2]];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !type) {
    throw new IdxFormatError(`${source}: bad magic number 0x${magic.toString(16).padStart(8, '0')} (not an IDX file)`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new IdxFormatError(`${source}: IDX header declares rank 0`);
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new IdxFormatError(
      `${source}: truncated header (rank ${rank} needs ${headerSize} bytes, file has ${bytes.length})`,
    );
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.bytes;
  if (bytes.length < expected) {
    throw new IdxFormatError(
      `${source}: truncated: header declares shape [${shape.join(', ')}] of ${type.name} (${expected} bytes) ` +
        `but the file has ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(
      `${source}: ${bytes.length - expected} unexpected trailing bytes after shape [${shape.join(', ')}] of ` +
        `${type.name}`,
    );
  }
  if (type.bytes === 1 && type.name === 'uint8')
    return { dtype: type.name, shape, data: bytes.subarray(headerSize, expected) };
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, headerSize + i * type.bytes);
  return { dtype: type.name, shape, data };
}

export function readIdxFile(path: string): IdxArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IdxFormatError(
      `cannot read IDX file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseIdx(buf, path);
}

/** Encodes an IDX buffer (uint8 data); used by tests and tools that write data sets. */
export function encodeIdxUint8(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/**
 * Loads an images file and a labels file as a labelled set: uint8 images kept
 * as bytes (values byte / 255, see `FeatureArray`), other types as floats,
 * flattened; labels checked against `numClasses`.
 */
export function loadIdxPair(imagesPath: string, labelsPath: string, numClasses?: number) {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (labels.shape.length !== 1)
    throw new IdxFormatError(`${labelsPath}: labels must be rank 1, got shape [${labels.shape.join(', ')}]`);
  if (images.shape[0] !== labels.shape[0]) {
    throw new IdxFormatError(
      `${imagesPath} has ${images.shape[0]} examples but ${labelsPath} has ${labels.shape[0]} labels`,
    );
  }
  const n = images.shape[0];
  // 8-bit images stay bytes (each stands for byte / 255: a quarter of float32's memory), as a plain Uint8Array
  // view of the file (a Buffer's slice() shares memory where a Uint8Array's copies); other types become floats.
  const features =
    images.data instanceof Uint8Array
      ? new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.length)
      : Float32Array.from(images.data);
  const y = new Int32Array(n);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      throw new IdxFormatError(
        `${labelsPath}: label ${v} at index ${i} is out of ` +
          `range${numClasses !== undefined ? ` [0, ${numClasses - 1}]` : ''}`,
      );
    }
    y[i] = v;
    if (v > maxLabel) maxLabel = v;
  }
  return { featureShape: images.shape.slice(1), features, labels: y, count: n, maxLabel };
}
