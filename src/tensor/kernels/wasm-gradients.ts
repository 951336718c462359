// Gradient kernels that tfjs-backend-wasm 4.22 lacks, registered so that
// every model anchorage offers trains on the wasm backend instead of falling
// back to the (5x slower) cpu backend.
import { tf } from '../tf.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
}

type KernelFn = (args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) => tf.TensorInfo;

function wasmKernel(name: string): KernelFn {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFn;
}

/**
 * Conv2DBackpropFilter, itself a convolution: with the batch as channels,
 * dW[kh, kw, cin, cout] = conv(xᵀ [cin, H, W, B], dyᵀ [oh, ow, B, cout]) with
 * the forward stride as dilation, cropped to the filter. (wasm's own
 * Conv3DBackpropFilterV2 over a depth of 1 would do, but is wrong for strides
 * above 1 in tfjs-backend-wasm 4.22.) Each intermediate is released, so
 * reference counts end where they started.
 */
function conv2dBackpropFilter(args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}): tf.TensorInfo {
  const { x, dy } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const { strides, pad, dataFormat, filterShape, dimRoundingMode } = args.attrs as {
    strides: number | [number, number];
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: string;
    filterShape: [number, number, number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  const [kh, kw, cin, cout] = filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    [sh, sw],
    1,
    pad,
    dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const transpose = wasmKernel('Transpose');
  const conv2d = wasmKernel('Conv2D');
  const slice = wasmKernel('Slice');
  const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
  const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
  const full = conv2d({
    inputs: { x: xT, filter: dyT },
    backend,
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    },
  });
  const cropped = slice({ inputs: { x: full }, backend, attrs: { begin: [0, 0, 0, 0], size: [cin, kh, kw, cout] } });
  const dw = transpose({ inputs: { x: cropped }, backend, attrs: { perm: [1, 2, 0, 3] } });
  for (const t of [xT, dyT, full, cropped]) backend.disposeData(t.dataId);
  return dw;
}

/** UnsortedSegmentSum (the gradient of gather, e.g. of embeddings), summed on the host over views of the heap. */
function unsortedSegmentSum(args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}): tf.TensorInfo {
  const { x, segmentIds } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  // Views after makeOutput: growing the heap detaches earlier ones.
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = backend.typedArrayFromHeap(out);
  sums.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0; k < inner; k++) sums[s * inner + k] += values[i * inner + k];
  }
  return out;
}

let installed = false;

export function installWasmGradientKernels(): void {
  if (installed) return;
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropFilter', conv2dBackpropFilter],
    ['UnsortedSegmentSum', unsortedSegmentSum],
  ] as const) {
    if (!tf.getKernel(kernelName, 'wasm'))
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  installed = true;
}
