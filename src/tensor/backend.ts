// Backend selection: native TensorFlow when its binding loads, else wasm
// (SIMD, one thread in Node), else the pure-JS cpu backend.
import { createRequire } from 'node:module';
import { tf } from './tf.js';
import { UserError } from '../errors.js';
import { installWasmSliceKernel } from './kernels/wasm-slice.js';
import { installWasmGradientKernels } from './kernels/wasm-gradients.js';
import { installNativeLayerKernels } from './kernels/native-layers.js';
import { rowKernelsStatus } from '../native/kernels.js';
import { loadNativeBinding } from '../native/load.js';

import { BACKEND_CHOICES, type BackendChoice } from './backend-choices.js';
import type { BackendInfo, BackendName } from '../contracts/backend.js';
export { BACKEND_CHOICES, type BackendChoice, type BackendInfo, type BackendName };

export class BackendUnavailableError extends UserError {}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

async function tryNative(): Promise<{ detail: string } | { error: string }> {
  // TensorFlow's C++ logging (oneDNN notices, CPU feature hints) would interleave with our output.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // oneDNN is faster for convolutions and batch norm and slower for the MLPs (`npm run bench:threads`): off unless
  // set, which `anchorage run` does for a sweep with a model other than an MLP (src/cli/run-threads.ts); its notice
  // at load is kept off stderr (src/native/quiet-load.ts).
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  // One inter-op thread: a training step is a chain of kernels, each waiting for the one before, and a second pool
  // thread only competes for the cores (`npm run bench:threads`: every model faster, MLP-256 3.82 against 4.79 ms).
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  try {
    const loaded = await loadNativeBinding();
    if (!tf.findBackend('tensorflow')) throw new Error('loaded but registered no "tensorflow" backend');
    const ok = await tf.setBackend('tensorflow');
    if (!ok) throw new Error('backend failed to initialise');
    installNativeLayerKernels();
    const tfVersion = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding?.TF_Version;
    const kernels = loaded.kernels.loaded ? 'on' : `off: ${loaded.kernels.why}`;
    return {
      detail:
        `@tensorflow/tfjs-node ${loaded.version ?? '?'} ` +
        `(${loaded.source})${tfVersion ? `, TensorFlow ${tfVersion}` : ''}, fused kernels ${kernels}`,
    };
  } catch (e) {
    return {
      error: `native TensorFlow: ${(e as Error).message}. Set it up with \`anchorage setup native\` (docs/backends.md)`,
    };
  }
}

async function tryWasm(): Promise<{ detail: string } | { error: string }> {
  // The emscripten glue installs process-wide handlers that rethrow every
  // uncaught error with the whole minified module as context; anchorage
  // reports its own errors, so drop them again after initialisation.
  const before = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('backend failed to initialise');
    installWasmSliceKernel();
    installWasmGradientKernels();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return {
      detail:
        `@tensorflow/tfjs-backend-wasm ` +
        `${packageVersion('@tensorflow/tfjs-backend-wasm')}${simd ? ', SIMD' : ', no SIMD'}, 1 thread`,
    };
  } catch (e) {
    return { error: `@tensorflow/tfjs-backend-wasm: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
      for (const listener of process.listeners(event as 'uncaughtException')) {
        if (!(before[event] as unknown[]).includes(listener)) process.removeListener(event, listener);
      }
    }
  }
}

async function tryCpu(): Promise<{ detail: string } | { error: string }> {
  await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend('cpu');
  // The cpu backend prints an advert for tfjs-node on its first upload; anchorage prints its own line.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return ok
    ? { detail: `@tensorflow/tfjs-backend-cpu ${packageVersion('@tensorflow/tfjs-backend-cpu')} (pure JavaScript)` }
    : { error: 'cpu backend failed to initialise' };
}

const ATTEMPTS: Record<BackendName, () => Promise<{ detail: string } | { error: string }>> = {
  tensorflow: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};

let selected: BackendInfo | undefined;

/** 'on', or 'off' and why (for run.json: the projection optimizers' row work runs through them when on). */
function fusedKernelsSetting(): string {
  const k = rowKernelsStatus();
  return k.loaded ? 'on' : `off (${k.why})`;
}

/**
 * Selects and initialises a backend. `auto` walks tensorflow → wasm → cpu;
 * a named backend that cannot load is an error (never a silent fallback).
 * Selection is once per process: tfjs keeps one active engine.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  // ANCHORAGE_BACKEND turns 'auto' into a fixed choice: how CI runs the suite on each backend.
  const fromEnv = process.env.ANCHORAGE_BACKEND;
  if (choice === 'auto' && fromEnv && fromEnv !== 'auto') {
    if (!(BACKEND_CHOICES as readonly string[]).includes(fromEnv))
      throw new BackendUnavailableError(
        `ANCHORAGE_BACKEND must be one of ${BACKEND_CHOICES.join(', ')}, got '${fromEnv}'`,
      );
    choice = fromEnv as BackendChoice;
  }
  if (selected && (choice === 'auto' || choice === selected.name)) return selected;
  if (selected && tf.findBackend(choice)) {
    await tf.setBackend(choice);
    selected = { ...selected, name: choice as BackendName, detail: choice };
    return selected;
  }
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  const skipped: string[] = [];
  for (const name of order) {
    const result = await ATTEMPTS[name]();
    if ('detail' in result) {
      await tf.ready();
      selected = {
        name,
        detail: result.detail,
        skipped,
        ...(name === 'tensorflow'
          ? {
              settings: {
                oneDNN: process.env.TF_ENABLE_ONEDNN_OPTS === '1' ? 'on' : 'off',
                intraOpThreads: process.env.TF_NUM_INTRAOP_THREADS || 'default',
                interOpThreads: process.env.TF_NUM_INTEROP_THREADS || 'default',
                fusedKernels: fusedKernelsSetting(),
              },
            }
          : {}),
        versions: {
          'tfjs-core': tf.version_core,
          node: process.versions.node,
        },
      };
      return selected;
    }
    skipped.push(result.error);
  }
  throw new BackendUnavailableError(`backend '${choice}' is not available: ${skipped.join('; ')}`);
}
