// Loading the native backend this process can run: the build in anchorage's
// native cache that fits this machine (cache.ts), else a tfjs-node package
// that brought its own libtensorflow (installed with its download script).
// Builds passed over are named with the reason, for the backend's record.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  BUILD_ENV,
  KERNELS_ADDON,
  STDIO_ADDON,
  PAGES_ADDON,
  bindingPackage,
  chooseBuild,
  cpuFeatures,
  manifestProblem,
  readEntry,
  type CacheEntry,
} from './cache.js';
import { loadRowKernels, type KernelsStatus } from './kernels.js';
import { quietLoad } from './quiet-load.js';
import { releasingLibraryPages } from './library-pages.js';

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** What the tfjs-node module offers besides the backend: TensorBoard's summary writer. */
export interface NativeModule {
  node: { summaryFileWriter(logdir: string, maxQueue?: number, flushMillis?: number): SummaryWriter };
}

export interface SummaryWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

/** The tfjs-node module this process loaded (once: TensorFlow's binding is process-wide). */
let loadedModule: NativeModule | undefined;

/** TensorBoard's summary writer of the loaded native backend; throws when native TensorFlow is not loaded. */
export function summaryFileWriter(logdir: string, maxQueue?: number, flushMillis?: number): SummaryWriter {
  if (!loadedModule) throw new Error('the native TensorFlow backend is not loaded');
  return loadedModule.node.summaryFileWriter(logdir, maxQueue, flushMillis);
}

export interface NativeLoaded {
  /** Where the binding came from: a cache build's folder, or an installed package's name. */
  source: string;
  version?: string;
  kernels: KernelsStatus;
}

/** A package installed without its native binding (npm skipped the failed download), or not at all. */
export function nativeBindingMissing(pkg: string, from = import.meta.url): string | undefined {
  const require = createRequire(from);
  let root: string;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return 'not installed';
  }
  return existsSync(join(root, 'lib', 'napi-v8', 'tfjs_binding.node'))
    ? undefined
    : 'installed without its native binding (tfjs_binding.node)';
}

/** The cache build to load: the one BUILD_ENV names (the setup's check), else the best fit. */
export function nativeBuild(): { entry?: CacheEntry; refused: string[] } {
  const forced = process.env[BUILD_ENV];
  if (!forced) return chooseBuild();
  const entry = readEntry(forced);
  const why = entry ? manifestProblem(entry.manifest, cpuFeatures()) : 'no manifest.json there';
  return why ? { refused: [`${forced}: ${why}`] } : { entry, refused: [] };
}

/**
 * Imports tfjs-node (which registers the 'tensorflow' backend with
 * TensorFlow.js) from the cache or from node_modules, then the fused kernels
 * that belong to it. Throws with every reason when there is none to load.
 */
export async function loadNativeBinding(): Promise<NativeLoaded> {
  const errors: string[] = [];
  const { entry, refused } = nativeBuild();
  errors.push(...refused.map((r) => `native cache ${r}`));
  if (entry) {
    const require = createRequire(join(entry.dir, 'package.json'));
    try {
      const addon = join(entry.dir, KERNELS_ADDON);
      // The kernels' addon loads under the release too: it maps pages of TensorFlow's framework library again.
      const loaded = releasingLibraryPages(join(entry.dir, PAGES_ADDON), () => ({
        module: quietLoad(join(entry.dir, STDIO_ADDON), () => require('@tensorflow/tfjs-node') as NativeModule),
        kernels: loadRowKernels(
          entry.manifest.kernels && existsSync(addon) ? addon : undefined,
          `not built in ${entry.dir} (run \`anchorage setup native\` again to build them)`,
        ),
      }));
      loadedModule = loaded.module;
      const version = (require(join(bindingPackage(entry.dir), 'package.json')) as { version?: string }).version;
      return { source: entry.dir, version, kernels: loaded.kernels };
    } catch (e) {
      errors.push(`native cache ${entry.dir}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  for (const pkg of NATIVE_PACKAGES) {
    const missing = nativeBindingMissing(pkg);
    if (missing) {
      errors.push(`${pkg}: ${missing}`);
      continue;
    }
    try {
      loadedModule = (await import(pkg)) as NativeModule;
      const version = (createRequire(import.meta.url)(`${pkg}/package.json`) as { version?: string }).version;
      return {
        source: pkg,
        version,
        kernels: loadRowKernels(undefined, `not part of ${pkg} (run \`anchorage setup native\` to build them)`),
      };
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(errors.join('; '));
}
