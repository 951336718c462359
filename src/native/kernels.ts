// anchorage's own TensorFlow kernels (row_kernels.cc), for the native
// backend only: `anchorage setup native` builds them beside the tfjs-node
// binding in the native cache, and loading the addon registers the ops with
// the TensorFlow that binding runs. Elsewhere (wasm, cpu, or a binding
// without them) callers use their tfjs op path, which computes the same rows.
import { createRequire } from 'node:module';
import { tf } from '../tensor/tf.js';
import { KERNELS_ABI } from './cache.js';

/** Set to 0 to leave the fused kernels unused (the op path runs instead). */
export const KERNELS_ENV = 'ANCHORAGE_FUSED_KERNELS';

/**
 * Row-wise work of the projection optimizers over several tensors at once, one
 * TensorFlow kernel each (rows as in src/optim/rows.ts). Row vectors come out
 * joined: every tensor's rows end to end (like rowSums), then `pad` zero rows.
 */
export interface RowKernels {
  /**
   * Each offset = tentative − anchor, every row's Σ|offset| (`norms`, without a guard) and, with `grads` and
   * `prevs`, every row's Σ grad ⊙ prev (`dots`). See RowOffsetsOptions for the fused add and the per-part
   * summaries.
   */
  offsets(
    tentative: readonly tf.Tensor[],
    anchor: readonly tf.Tensor[],
    rows: RowAxes,
    opts?: RowOffsetsOptions,
  ): RowOffsets;
  /**
   * Each anchor + f[its rows] · offset, where f = `factors` or, given `partValues` (one per part),
   * clamp(partValues[part] · factors[row], 0, 1). `factors` may run past the tensors' rows (ignored).
   */
  scaleAdd(
    anchor: readonly tf.Tensor[],
    offset: readonly tf.Tensor[],
    factors: tf.Tensor,
    rows: RowAxes,
    partValues?: tf.Tensor,
  ): tf.Tensor[];
  /**
   * scaleAdd by part after stepping the part values as FTP steps its constraints (see PartStep): the
   * projection and the constraints' update in one kernel.
   */
  stepScaleAdd(
    anchor: readonly tf.Tensor[],
    offset: readonly tf.Tensor[],
    factors: tf.Tensor,
    rows: RowAxes,
    step: PartStep,
  ): PartStepResult;
}

/**
 * One step of per-part values v (FTP's γ), [parts] each: g = grad, times `anneal` where positive; Adam on g
 * with moments m, v; v' = min(max(v − lr · adam, floor), ceiling) — the float arithmetic of the ops in
 * plugins/optimizers/ftp.ts. `coefficients`: scaleByAdam's seven (adamCoefficients), then lr, floor, anneal.
 */
export interface PartStep {
  values: tf.Tensor;
  grad: tf.Tensor;
  ceiling: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  coefficients: tf.Tensor;
}

export interface PartStepResult {
  out: tf.Tensor[];
  values: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

export interface RowOffsetsOptions {
  /** With `prevs`: the rows' Σ grad ⊙ prev, and each part's Σ over its rows of that × `rowWeights`. */
  grads?: readonly tf.Tensor[];
  prevs?: readonly tf.Tensor[];
  /** Per row of the joint vector (its pad rows may follow): the weights of `partDots`. Required with `grads`. */
  rowWeights?: tf.Tensor;
  /**
   * `tentative` holds the parameters before the step; the tentative weights are tentative + updates, formed in the same
   * pass (equal to a separate tf.add).
   */
  updates?: readonly tf.Tensor[];
  /** Zero rows after the tensors' rows (default 0). */
  pad?: number;
  /** The guard added to every row's norm for `scale` and `partMax` (default 1e-8, FTP's reference). */
  eps?: number;
}

/** Row vectors are [rows + pad], parts' [parts]: a part is a tensor. */
export interface RowOffsets {
  offsets: tf.Tensor[];
  norms: tf.Tensor;
  dots?: tf.Tensor;
  /** 1 / (norm + eps) per row (pad rows included). */
  scale: tf.Tensor;
  /** Each part's largest norm + eps. */
  partMax: tf.Tensor;
  /** With `grads`: each part's Σ over its rows of dots × rowWeights. */
  partDots?: tf.Tensor;
}

/**
 * Adam's moments and step for all of a rule's tensors in one kernel (see
 * scaleByAdam): `coefficients` = [β1, 1−β1, β2, 1−β2, bc1, √bc2, eps].
 */
export type AdamKernel = (
  grads: readonly tf.Tensor[],
  m: readonly tf.Tensor[],
  v: readonly tf.Tensor[],
  coefficients: tf.Tensor,
) => { m: tf.Tensor[]; v: tf.Tensor[]; updates: tf.Tensor[] };

/** L2-SP's anchor pull for all of a rule's tensors in one kernel: grad + (param − anchor) · alpha. */
export type AnchorPullKernel = (
  grads: readonly tf.Tensor[],
  params: readonly tf.Tensor[],
  anchor: readonly tf.Tensor[],
  alpha: tf.Tensor,
) => tf.Tensor[];

/**
 * SPD's projection for all of its tensors in one kernel (see plugins/optimizers/spd.ts): per tensor, the
 * tentative weights pulled towards the anchor by λ · clamp((|c| − |c_prev|) / (|c| + 1e-12), 0, 1), |·| the
 * L2 norm, where the gradient points away from it.
 */
export type SpdKernel = (
  tentative: readonly tf.Tensor[],
  params: readonly tf.Tensor[],
  anchor: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  lambda: tf.Tensor,
) => tf.Tensor[];

/** Every tensor times one scalar, in one kernel: the learning rate's scaling of an update. */
export type ScaleKernel = (xs: readonly tf.Tensor[], scale: tf.Tensor) => tf.Tensor[];

/** Pairwise sums of two lists of tensors, in one kernel: an update applied to the parameters. */
export type AddKernel = (a: readonly tf.Tensor[], b: readonly tf.Tensor[]) => tf.Tensor[];

/**
 * Rows of byte images decoded to floats in one kernel: `bytes` holds n rows of `width` bytes, four to an int32
 * ([n, width / 4]); the result is [index.length, width], each byte times 1 / 255 as src/contracts/data.ts decodes it.
 */
export type ByteRowsKernel = (bytes: tf.Tensor, index: tf.Tensor) => tf.Tensor;

/** Where the tensors' rows are: each one's row axis. */
export interface RowAxes {
  axes: readonly number[];
}

interface NodeBackend {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_INT: number; TF_ATTR_FLOAT: number };
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

export type KernelsStatus = { loaded: true; path: string } | { loaded: false; why: string };

/** The ops the addon must register (row_kernels.cc); the version of their signatures it must export is KERNELS_ABI. */
const OPS = [
  'AnchorageRowOffsets',
  'AnchorageRowScaleAdd',
  'AnchorageAdam',
  'AnchorageAnchorPull',
  'AnchorageSpd',
  'AnchorageScale',
  'AnchorageAdd',
  'AnchorageByteRows',
];

let status: KernelsStatus | undefined;
/** The wrappers for the backend instance they were made for (made once, not at every step). */
let wrapped: ({ backend: unknown } & Wrapped) | undefined;

interface Wrapped {
  kernels: RowKernels;
  adam: AdamKernel;
  anchorPull: AnchorPullKernel;
  spd: SpdKernel;
  scale: ScaleKernel;
  add: AddKernel;
  byteRows: ByteRowsKernel;
}

/** What the addon exports (row_kernels.cc). */
export interface KernelsAddon {
  ops?: string[];
  abi?: number;
}

/** Why this anchorage cannot call a loaded addon's ops, or undefined when it can. */
export function addonProblem(addon: KernelsAddon): string | undefined {
  const again = 'run `anchorage setup native` again';
  const missing = OPS.filter((op) => !addon.ops?.includes(op));
  if (missing.length) return `it lacks ${missing.join(', ')} (built from an older anchorage: ${again})`;
  // An addon built from another anchorage registers ops of the same names with other inputs.
  if (addon.abi !== KERNELS_ABI)
    return (
      `its ops are version ${addon.abi ?? 1}, this anchorage calls version ${KERNELS_ABI} (built from another ` +
      `anchorage: ${again})`
    );
  return undefined;
}

/**
 * Loads the addon at `path` (once per process: TensorFlow's op registry is
 * process-wide), after the binding it belongs to loaded; `missing` says why
 * there is none when `path` is undefined.
 */
export function loadRowKernels(path: string | undefined, missing: string): KernelsStatus {
  if (status) return status;
  if (process.env[KERNELS_ENV] === '0') return (status = { loaded: false, why: `${KERNELS_ENV}=0` });
  if (!path) return (status = { loaded: false, why: missing });
  try {
    const problem = addonProblem(createRequire(import.meta.url)(path) as KernelsAddon);
    if (problem) throw new Error(problem);
    return (status = { loaded: true, path });
  } catch (e) {
    return (status = { loaded: false, why: `${path} failed to load: ${(e as Error).message.split('\n')[0]}` });
  }
}

/** How the fused kernels stand in this process ('off' before native TensorFlow loaded). */
export function rowKernelsStatus(): KernelsStatus {
  return status ?? { loaded: false, why: 'native TensorFlow not loaded' };
}

/**
 * The fused kernels when the active backend is native TensorFlow and they
 * loaded; otherwise undefined. ANCHORAGE_FUSED_KERNELS=0 is read on every
 * call, so a bench can time both paths in one process.
 */
export function rowKernels(): RowKernels | undefined {
  return active()?.kernels;
}

/** The fused Adam kernel, under the same conditions as rowKernels(). */
export function fusedAdam(): AdamKernel | undefined {
  return active()?.adam;
}

/** L2-SP's fused anchor pull, under the same conditions as rowKernels(). */
export function fusedAnchorPull(): AnchorPullKernel | undefined {
  return active()?.anchorPull;
}

/** SPD's fused projection, under the same conditions as rowKernels(). */
export function fusedSpd(): SpdKernel | undefined {
  return active()?.spd;
}

/** Every tensor times a scalar in one kernel, under the same conditions as rowKernels(). */
export function fusedScale(): ScaleKernel | undefined {
  return active()?.scale;
}

/** Pairwise sums in one kernel, under the same conditions as rowKernels(). */
export function fusedAdd(): AddKernel | undefined {
  return active()?.add;
}

/** Byte rows decoded in one kernel, under the same conditions as rowKernels(). */
export function fusedByteRows(): ByteRowsKernel | undefined {
  return active()?.byteRows;
}

function active(): Wrapped | undefined {
  if (!status?.loaded || process.env[KERNELS_ENV] === '0' || tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as NodeBackend;
  if (wrapped?.backend !== backend) wrapped = { backend, ...wrapAll(backend) };
  return wrapped;
}

function wrapAll(backend: NodeBackend): Wrapped {
  const { TF_ATTR_INT } = backend.binding;
  const n = (count: number) => [{ name: 'N', type: TF_ATTR_INT, value: count }];
  return {
    kernels: wrap(backend),
    adam: wrapAdam(backend),
    anchorPull: (grads, params, anchor, alpha) =>
      backend.executeMultipleOutputs(
        'AnchorageAnchorPull',
        n(grads.length),
        [...grads, ...params, ...anchor, alpha],
        grads.length,
      ),
    spd: (tentative, params, anchor, grads, lambda) =>
      backend.executeMultipleOutputs(
        'AnchorageSpd',
        n(tentative.length),
        [...tentative, ...params, ...anchor, ...grads, lambda],
        tentative.length,
      ),
    scale: (xs, scale) => backend.executeMultipleOutputs('AnchorageScale', n(xs.length), [...xs, scale], xs.length),
    add: (a, b) => backend.executeMultipleOutputs('AnchorageAdd', n(a.length), [...a, ...b], a.length),
    byteRows: (bytes, index) => backend.executeMultipleOutputs('AnchorageByteRows', [], [bytes, index], 1)[0],
  };
}

function wrapAdam(backend: NodeBackend): AdamKernel {
  const { TF_ATTR_INT } = backend.binding;
  return (grads, m, v, coefficients) => {
    const n = grads.length;
    const out = backend.executeMultipleOutputs(
      'AnchorageAdam',
      [{ name: 'N', type: TF_ATTR_INT, value: n }],
      [...grads, ...m, ...v, coefficients],
      3 * n,
    );
    return { m: out.slice(0, n), v: out.slice(n, 2 * n), updates: out.slice(2 * n) };
  };
}

function wrap(backend: NodeBackend): RowKernels {
  const { TF_ATTR_BOOL, TF_ATTR_INT, TF_ATTR_FLOAT } = backend.binding;
  const where = (rows: RowAxes, n: number) => [
    { name: 'N', type: TF_ATTR_INT, value: n },
    { name: 'row_axes', type: TF_ATTR_INT, value: [...rows.axes] },
  ];
  const scaleAdd = (
    anchor: readonly tf.Tensor[],
    offset: readonly tf.Tensor[],
    factors: tf.Tensor,
    rows: RowAxes,
    by?: { partValues?: tf.Tensor; step?: PartStep },
  ): PartStepResult => {
    const { partValues, step } = by ?? {};
    const n = offset.length;
    const attrs = [
      ...where(rows, n),
      { name: 'by_part', type: TF_ATTR_BOOL, value: partValues !== undefined },
      { name: 'update_parts', type: TF_ATTR_BOOL, value: step !== undefined },
    ];
    // The kernel reads no input it was not asked to; the factors fill the slots of those not given.
    const parts = step
      ? [step.grad, step.ceiling, step.m, step.v, step.coefficients]
      : Array<tf.Tensor>(5).fill(factors);
    const out = backend.executeMultipleOutputs(
      'AnchorageRowScaleAdd',
      attrs,
      [...anchor, ...offset, factors, partValues ?? factors, ...parts],
      n + 3,
    );
    return { out: out.slice(0, n), values: out[n], m: out[n + 1], v: out[n + 2] };
  };
  return {
    offsets(tentative, anchor, rows, opts = {}) {
      const { grads, prevs, updates, rowWeights, pad = 0, eps = 1e-8 } = opts;
      const n = tentative.length;
      const withGrad = grads !== undefined && prevs !== undefined;
      if (withGrad && !rowWeights) throw new Error('RowKernels.offsets: rowWeights must come with grads');
      const attrs = [
        ...where(rows, n),
        { name: 'with_grad', type: TF_ATTR_BOOL, value: withGrad },
        { name: 'with_update', type: TF_ATTR_BOOL, value: updates !== undefined },
        { name: 'pad', type: TF_ATTR_INT, value: pad },
        { name: 'eps', type: TF_ATTR_FLOAT, value: eps },
      ];
      // The kernel reads no list it was not given; the tentative tensors fill those slots.
      const inputs = [
        ...tentative,
        ...anchor,
        ...(withGrad ? grads : tentative),
        ...(withGrad ? prevs : tentative),
        ...(updates ?? tentative),
        rowWeights ?? tentative[0],
      ];
      const out = backend.executeMultipleOutputs('AnchorageRowOffsets', attrs, inputs, n + 5);
      const [norms, dots, scale, partMax, partDots] = out.slice(n);
      if (withGrad) return { offsets: out.slice(0, n), norms, dots, scale, partMax, partDots };
      tf.dispose([dots, partDots]);
      return { offsets: out.slice(0, n), norms, scale, partMax };
    },
    scaleAdd(anchor, offset, factors, rows, partValues) {
      const out = scaleAdd(anchor, offset, factors, rows, { partValues });
      tf.dispose([out.values, out.m, out.v]);
      return out.out;
    },
    stepScaleAdd: (anchor, offset, factors, rows, step) =>
      scaleAdd(anchor, offset, factors, rows, { partValues: step.values, step }),
  };
}
