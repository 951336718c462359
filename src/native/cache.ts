// Where `anchorage setup native` puts what it builds, and which build a
// process may load. A build is one folder of anchorage's native cache, never
// inside node_modules (so `npm ci` keeps it), named by what it depends on:
// the TensorFlow it links, the Node-API version of the binding, the machine
// architecture and the instruction set it was compiled for. Its manifest
// records the CPU features a build needs; a process on a CPU that lacks one
// refuses that build with one line (and falls back to the op path or another
// build) instead of dying of an illegal instruction.
//
// No TensorFlow.js here: the CLI's help and `setup` read these without
// loading a backend.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { packageRoot } from '../package-root.js';

/** The TensorFlow whose C API tfjs-node 4.22's binding is known to build and run against. */
export const TENSORFLOW_VERSION = '2.21.0';
export const TFJS_NODE_VERSION = '4.22.0';
/** Node-API version the binding is built for (tfjs-node's `napi-v8`). */
export const NAPI_VERSION = 8;
/** Where the cache is, when not in the default place. */
export const CACHE_ENV = 'ANCHORAGE_NATIVE_CACHE';
/** The manifest's own format: a cache entry of another format is rebuilt, never trusted. */
export const MANIFEST_FORMAT = 'anchorage-native/1';
export const KERNELS_ADDON = 'anchorage_kernels.node';
/** Standard error redirected while TensorFlow loads (stdio_guard.c); a build without it loads without it. */
export const STDIO_ADDON = 'anchorage_stdio.node';
/** TensorFlow's library pages released once loaded (library_pages.c); a build without it keeps them mapped. */
export const PAGES_ADDON = 'anchorage_pages.node';
/** The op signature version row_kernels.cc exports (checked at load: an addon of another version is not called). */
export const KERNELS_ABI = 5;
/** Set to a build folder: the process loads that build (the setup's check of a build before it is put in place). */
export const BUILD_ENV = 'ANCHORAGE_NATIVE_BUILD';

/** What a build was made for and of (manifest.json in its folder). */
export interface NativeManifest {
  /** MANIFEST_FORMAT when anchorage wrote it; anything, as read from a file. */
  format: string;
  tensorflow: string;
  napi: number;
  arch: string;
  /** 'portable' (baseline instruction set, clones dispatched at load) or 'native' (-march=native). */
  target: 'portable' | 'native';
  /** CPU features (as /proc/cpuinfo names them) the build's code may use without checking. */
  cpuFeatures: string[];
  /** The fused kernels' op signature version, when they were built (src/native/row_kernels.cc exports it). */
  kernels: { abi: number } | null;
  builtAt: string;
}

/**
 * The project a cache belongs to: the folder above anchorage's own package
 * that is not inside node_modules — this repository, or the project that
 * installed anchorage.
 */
export function projectRoot(from = packageRoot()): string {
  const parts = resolve(from).split(sep);
  const inModules = parts.indexOf('node_modules');
  return inModules > 0 ? parts.slice(0, inModules).join(sep) || sep : resolve(from);
}

/** The native cache: $ANCHORAGE_NATIVE_CACHE, else `.anchorage/native` in the project. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env[CACHE_ENV] || join(projectRoot(), '.anchorage', 'native'));
}

/** The folder a build of this configuration goes to. */
export function buildKey(m: Pick<NativeManifest, 'tensorflow' | 'napi' | 'arch' | 'target'>): string {
  return `tf${m.tensorflow}-napi${m.napi}-${m.arch}-${m.target}`;
}

/** The CPU's feature flags (Linux: /proc/cpuinfo), or undefined where they cannot be read. */
export function cpuFeatures(cpuinfo = '/proc/cpuinfo'): Set<string> | undefined {
  try {
    const line = readFileSync(cpuinfo, 'utf8')
      .split('\n')
      .find((l) => /^(flags|Features)\s*:/.test(l));
    return line ? new Set(line.split(':')[1].trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

/** Why this process cannot load a build, or undefined when it can. */
export function manifestProblem(
  m: NativeManifest,
  cpu: Set<string> | undefined,
  arch = process.arch,
): string | undefined {
  if (m.format !== MANIFEST_FORMAT)
    return `its manifest is of format ${JSON.stringify(m.format)}, not ${MANIFEST_FORMAT}`;
  if (m.arch !== arch) return `it was built for ${m.arch}, this machine is ${arch}`;
  if (m.napi !== NAPI_VERSION) return `it was built for Node-API ${m.napi}, this anchorage loads ${NAPI_VERSION}`;
  if (m.cpuFeatures.length && !cpu)
    return `it needs CPU features (${m.cpuFeatures.join(', ')}) this machine does not report`;
  const lacking = m.cpuFeatures.filter((f) => !cpu!.has(f));
  if (lacking.length) return `it was built for a CPU with ${lacking.join(', ')}, which this one lacks`;
  return undefined;
}

export interface CacheEntry {
  dir: string;
  manifest: NativeManifest;
}

/** Every build in the cache with a manifest that reads. */
export function cacheEntries(root = cacheRoot()): CacheEntry[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      const entry = readEntry(join(root, d.name));
      // A build's folder is named by its manifest (a half-built or replaced folder is not a build).
      return entry && d.name === buildKey(entry.manifest) ? [entry] : [];
    });
}

/** The build in `dir`, or undefined when its manifest is missing or does not read. */
export function readEntry(dir: string): CacheEntry | undefined {
  try {
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as NativeManifest };
  } catch {
    return undefined;
  }
}

/**
 * The build this process loads: of the cache's builds for this TensorFlow,
 * the first this machine can run, a build for this CPU before the portable
 * one; with the reasons the others were passed over.
 */
export function chooseBuild(root = cacheRoot(), cpu = cpuFeatures()): { entry?: CacheEntry; refused: string[] } {
  const refused: string[] = [];
  const ranked = cacheEntries(root)
    .filter((e) => e.manifest.tensorflow === TENSORFLOW_VERSION)
    .sort((a, b) => (a.manifest.target === b.manifest.target ? 0 : a.manifest.target === 'native' ? -1 : 1));
  for (const entry of ranked) {
    const why = manifestProblem(entry.manifest, cpu);
    if (!why) return { entry, refused };
    refused.push(`${entry.dir}: ${why}`);
  }
  return { refused };
}

/** The tfjs-node package inside a build (its JavaScript and its binding). */
export function bindingPackage(dir: string): string {
  return join(dir, 'node_modules', '@tensorflow', 'tfjs-node');
}

/** Whether `path` lies inside a node_modules folder (what `npm ci` deletes). */
export function insideNodeModules(path: string): boolean {
  return resolve(path).split(sep).includes('node_modules');
}
