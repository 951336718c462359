// Compiling anchorage's fused kernels (row_kernels.cc, byte_rows.cc) as a Node addon
// against the TensorFlow library the tfjs-node binding links. Portable by
// default: the baseline instruction set of the architecture, with the hot
// loops cloned per vector width and chosen at load; `native` compiles for
// this CPU alone (-march=native) and records the CPU features the build may
// use, so that another CPU refuses it at load instead of crashing. Neither
// may change a result: no contraction into fused multiply-adds (TensorFlow's
// ops round each product), and -fno-math-errno only lets sqrt skip errno.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { cpuFeatures } from './cache.js';

export class NativeBuildError extends UserError {}

/** The vector features a -march=native build may use, as /proc/cpuinfo names them (what a CPU must have to run it). */
const VECTOR_FEATURES = /^(sse\d.*|ssse3|avx.*|fma|f16c|bmi\d|popcnt|lzcnt|abm|movbe|asimd.*|sve.*)$/;

export interface KernelsBuild {
  /** libtensorflow_framework's folder and the C headers' folder. */
  lib: string;
  include: string;
  /** Node's headers (node_api.h). */
  nodeHeaders: string;
  out: string;
  target: 'portable' | 'native';
  cwd: string;
}

/** Runs a build tool; its last lines in the error when it fails. */
export function run(cmd: string, args: string[], cwd: string, what: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n');
    throw new NativeBuildError(
      `${what} failed (${cmd} ${args.join(' ')}): ${r.error?.message ?? `exit ${r.status}`}\n${tail}`,
    );
  }
  return r.stdout;
}

/** Compiles the kernels; returns the CPU features the build needs (none for a portable build). */
export function buildKernels(b: KernelsBuild): string[] {
  const framework = readdirSync(b.lib).find((f) => /^libtensorflow_framework\.so(\.2)?$/.test(f));
  if (!framework)
    throw new NativeBuildError(`${b.lib}: no libtensorflow_framework.so.2 to build the fused kernels against`);
  // Beside this module (the build copies them next to the compiled one).
  const inputs = ['./row_kernels.cc', './byte_rows.cc'].map((f) => fileURLToPath(new URL(f, import.meta.url)));
  const arch = b.target === 'native' ? ['-march=native', '-DANCHORAGE_NO_CLONES'] : [];
  // TensorFlow's pip packages are built with the C++11 string ABI; its headers need C++17.
  const flags = [
    '-std=c++17',
    '-O3',
    ...arch,
    '-ffp-contract=off',
    '-fno-math-errno',
    '-shared',
    '-fPIC',
    '-w',
    '-D_GLIBCXX_USE_CXX11_ABI=1',
    '-DEIGEN_MAX_ALIGN_BYTES=64',
  ];
  // The library's folder relative to the addon: the build survives its folder being moved.
  const rpath = `$ORIGIN/${relative(dirname(b.out), b.lib)}`;
  const links = [
    `-I${b.include}`,
    `-I${b.nodeHeaders}`,
    ...inputs,
    '-o',
    b.out,
    `-L${b.lib}`,
    `-l:${framework}`,
    `-Wl,-rpath,${rpath}`,
  ];
  run(process.env.CXX || 'g++', [...flags, ...links], b.cwd, 'building the fused kernels');
  if (b.target === 'portable') return [];
  return [...(cpuFeatures() ?? new Set<string>())].filter((f) => VECTOR_FEATURES.test(f)).sort();
}

/**
 * Compiles one of the addons that link nothing of TensorFlow's, so that they load before TensorFlow does: the stdio
 * guard (stdio_guard.c, standard error redirected while TensorFlow loads) and the library pages' release
 * (library_pages.c).
 */
export function buildPlainAddon(b: {
  source: string;
  nodeHeaders: string;
  out: string;
  cwd: string;
  what: string;
}): void {
  const input = fileURLToPath(new URL(`./${b.source}`, import.meta.url));
  run(
    process.env.CC || 'gcc',
    ['-O2', '-shared', '-fPIC', '-w', `-I${b.nodeHeaders}`, input, '-o', b.out, '-lpthread'],
    b.cwd,
    `building ${b.what}`,
  );
}

/** Node's C headers (node_api.h): the distribution's, else node-gyp's cache. */
export function nodeHeaders(nodeDir: string): string {
  const candidates = [
    join(nodeDir, 'include', 'node'),
    join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found)
    throw new NativeBuildError(
      `found no node_api.h (looked in ${candidates.join(', ')}); install Node's headers (Debian: nodejs's libnode-dev)`,
    );
  return found;
}
