// tfjs-backend-wasm 4.22's Slice kernel starts with backend.readSync(x),
// which copies the *whole* input out of the wasm heap: slicing one batch of
// 128 rows from a task's 12,000 examples costs ~19 ms, a third of a training
// step. A contiguous slice (rows of a row-major tensor: every batch slice)
// is one copy between two views of the heap; other slices keep the original.
import { tf } from '../tf.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let installed = false;

export function installWasmSliceKernel(): void {
  if (installed) return;
  const original = tf.getKernel('Slice', 'wasm');
  if (!original) return;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
      const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size);
      if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin_, size_))
        return original.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
      // makeOutput may grow the heap, which detaches earlier views: take the views after it.
      const out = backend.makeOutput(size_, x.dtype);
      const n = tf.util.sizeFromShape(size_);
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + n));
      return out;
    },
  });
  installed = true;
}
