// `anchorage setup native`: builds @tensorflow/tfjs-node's binding against a
// TensorFlow C library found locally — a libtensorflow tarball or the shared
// libraries inside a tensorflow-cpu wheel — for machines whose npm install
// cannot download libtensorflow (air-gapped clusters, this project's CI).
import { UserError } from '../errors.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TFJS_NODE_VERSION = '4.22.0';
/** The TensorFlow whose C API tfjs-node 4.22's binding is known to build and run against. */
export const TENSORFLOW_VERSION = '2.21.0';

export class NativeSetupError extends UserError {}

/** The fused kernels' addon (src/tensor/native-kernels.ts loads it), next to tfjs_binding.node. */
export const KERNELS_ADDON = 'anchorage_kernels.node';

export interface SetupOptions {
  /** Project root (where node_modules is). */
  root: string;
  /** A .whl, a libtensorflow .tar.gz, or a folder holding lib/ (or the wheel's tensorflow/) and include/. */
  from?: string;
  /** Fetch the tensorflow-cpu wheel with `pip download` when no `from` is given. */
  download: boolean;
  log: (line: string) => void;
}

function run(cmd: string, args: string[], cwd: string, what: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n');
    throw new NativeSetupError(`${what} failed (${cmd} ${args.join(' ')}): ${r.error?.message ?? `exit ${r.status}`}\n${tail}`);
  }
  return r.stdout;
}

/** A folder with libtensorflow*.so.2 and include/tensorflow/c/c_api.h, from whatever the user gave. */
function unpack(source: string, cache: string, log: (l: string) => void): { lib: string; include: string } {
  const abs = resolve(source);
  if (!existsSync(abs)) throw new NativeSetupError(`${source}: no such file or folder`);
  let dir = abs;
  if (statSync(abs).isFile()) {
    dir = join(cache, basename(abs).replace(/\.(whl|tar\.gz|tgz)$/, ''));
    if (!existsSync(join(dir, '.complete'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      log(`unpacking ${basename(abs)} (shared libraries and C headers only)`);
      if (abs.endsWith('.whl')) {
        run('python3', ['-c', `import zipfile,sys
z = zipfile.ZipFile(sys.argv[1])
names = [n for n in z.namelist() if n.startswith('tensorflow/libtensorflow') or n.startswith('tensorflow/include/')]
z.extractall(sys.argv[2], names)`, abs, dir], cache, 'unpacking the wheel');
      } else if (/\.(tar\.gz|tgz)$/.test(abs)) {
        run('tar', ['xzf', abs, '-C', dir], cache, 'unpacking the tarball');
      } else throw new NativeSetupError(`${source}: expected a .whl, a .tar.gz or a folder`);
      run('touch', [join(dir, '.complete')], cache, 'marking the unpacked libraries');
    }
  }
  for (const candidate of [dir, join(dir, 'tensorflow')]) {
    const libDir = [join(candidate, 'lib'), candidate].find((d) => existsSync(d) && readdirSync(d).some((f) => /^libtensorflow(_cc)?\.so\.2/.test(f)));
    const include = join(candidate, 'include');
    if (libDir && existsSync(join(include, 'tensorflow', 'c', 'c_api.h'))) return { lib: libDir, include };
  }
  throw new NativeSetupError(`${source}: found no libtensorflow(_cc).so.2 with include/tensorflow/c/c_api.h beside it; give a tensorflow-cpu wheel, a libtensorflow tarball or such a folder`);
}

function downloadWheel(cache: string, log: (l: string) => void): string {
  const existing = existsSync(cache) ? readdirSync(cache).find((f) => f.startsWith(`tensorflow_cpu-${TENSORFLOW_VERSION}-`) && f.endsWith('.whl')) : undefined;
  if (existing) return join(cache, existing);
  log(`downloading tensorflow-cpu==${TENSORFLOW_VERSION} with pip (about 270 MB)`);
  mkdirSync(cache, { recursive: true });
  run('python3', ['-m', 'pip', 'download', `tensorflow-cpu==${TENSORFLOW_VERSION}`, '--no-deps', '--only-binary=:all:', '-d', cache], cache, 'pip download');
  const wheel = readdirSync(cache).find((f) => f.startsWith('tensorflow_cpu-') && f.endsWith('.whl'));
  if (!wheel) throw new NativeSetupError('pip reported success but left no tensorflow_cpu wheel');
  return join(cache, wheel);
}

function nodeGyp(): string[] {
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const bundled = join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? [process.execPath, bundled] : ['npx', '--yes', 'node-gyp'];
}

/** Installs tfjs-node (scripts off: its own install would download libtensorflow), links the libraries, builds and checks the binding. */
export function setupNative(opts: SetupOptions): { tensorflow: string; binding: string; kernels: string } {
  const cache = join(opts.root, '.native');
  const source = opts.from ?? (opts.download ? downloadWheel(cache, opts.log) : undefined);
  if (!source) {
    throw new NativeSetupError(
      `no TensorFlow C library given. Provide one of:\n` +
        `  --from tensorflow_cpu-${TENSORFLOW_VERSION}-*.whl   (pip download tensorflow-cpu==${TENSORFLOW_VERSION} --no-deps)\n` +
        `  --from libtensorflow-cpu-linux-x86_64-*.tar.gz\n` +
        `  --from <folder with lib/libtensorflow*.so.2 and include/>\n` +
        `or --download to fetch the wheel with pip.`,
    );
  }
  const { lib, include } = unpack(source, cache, opts.log);
  const require = createRequire(join(opts.root, 'package.json'));
  let pkgRoot: string;
  try {
    pkgRoot = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    opts.log(`installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} without its download script`);
    run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], opts.root, 'npm install');
    pkgRoot = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  }
  const deps = join(pkgRoot, 'deps');
  rmSync(deps, { recursive: true, force: true });
  mkdirSync(join(deps, 'lib'), { recursive: true });
  for (const f of readdirSync(lib).filter((f) => f.startsWith('libtensorflow'))) symlinkSync(join(lib, f), join(deps, 'lib', f));
  // The binding links -ltensorflow: a wheel calls that library libtensorflow_cc.
  const cc = readdirSync(lib).find((f) => /^libtensorflow_cc\.so\.2$/.test(f));
  if (cc && !existsSync(join(deps, 'lib', 'libtensorflow.so'))) symlinkSync(join(lib, cc), join(deps, 'lib', 'libtensorflow.so'));
  if (!existsSync(join(deps, 'lib', 'libtensorflow_framework.so'))) {
    const fw = readdirSync(lib).find((f) => /^libtensorflow_framework\.so\.2$/.test(f));
    if (fw) symlinkSync(join(lib, fw), join(deps, 'lib', 'libtensorflow_framework.so'));
  }
  symlinkSync(include, join(deps, 'include'));
  const modulePath = join(pkgRoot, 'lib', 'napi-v8');
  opts.log('building the tfjs-node binding (node-gyp)');
  const [cmd, ...pre] = nodeGyp();
  // Node's own headers where the distribution ships them (no header download on an offline machine).
  const nodeDir = process.env.npm_config_nodedir ?? dirname(dirname(process.execPath));
  const headers = existsSync(join(nodeDir, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodeDir}`] : [];
  run(cmd, [...pre, 'rebuild', ...headers, '--module_name=tfjs_binding', `--module_path=${modulePath}`, '--napi_build_version=8'], pkgRoot, 'building the binding');
  const check = run(
    process.execPath,
    ['-e', "process.env.TF_CPP_MIN_LOG_LEVEL='2'; const tf = require('@tensorflow/tfjs-node'); const b = tf.backend(); console.log(tf.getBackend(), b.binding.TF_Version)"],
    opts.root,
    'loading the built binding',
  );
  const [backend, version] = check.trim().split(/\s+/).slice(-2);
  if (backend !== 'tensorflow') throw new NativeSetupError(`the binding loaded but the active backend is ${backend}`);
  let kernels: string;
  try {
    kernels = buildRowKernels({ lib, include, nodeDir, out: join(modulePath, KERNELS_ADDON), cwd: opts.root, log: opts.log });
  } catch (e) {
    // The backend works without them (FTP then takes its op path, slower here): say so, do not fail the setup.
    rmSync(join(modulePath, KERNELS_ADDON), { force: true });
    opts.log(`warning: ${(e as Error).message}`);
    kernels = 'not built (see the warning above)';
  }
  return { tensorflow: version, binding: join(modulePath, 'tfjs_binding.node'), kernels };
}

/** Node's C headers (node_api.h): the distribution's, else node-gyp's cache. */
function nodeHeaders(nodeDir: string): string {
  const candidates = [join(nodeDir, 'include', 'node'), join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node')];
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found) throw new NativeSetupError(`found no node_api.h (looked in ${candidates.join(', ')}); install Node's headers (Debian: nodejs's libnode-dev)`);
  return found;
}

/**
 * Compiles anchorage's fused row kernels (src/tensor/native/row_kernels.cc)
 * against the same TensorFlow as the binding, as a Node addon beside it, and
 * checks them against TensorFlow's own ops on two stacked tensors (every
 * input and output of the ops in use).
 */
function buildRowKernels(o: { lib: string; include: string; nodeDir: string; out: string; cwd: string; log: (l: string) => void }): string {
  o.log('building anchorage\'s fused kernels (g++)');
  const source = fileURLToPath(new URL('./row_kernels.cc', import.meta.url));
  const framework = readdirSync(o.lib).find((f) => /^libtensorflow_framework\.so(\.2)?$/.test(f));
  if (!framework) throw new NativeSetupError(`${o.lib}: no libtensorflow_framework.so.2 to build the fused kernels against`);
  // TensorFlow's pip packages are built with the C++11 string ABI; its headers need C++17. The addon is built
  // where it runs, for this CPU's vector units (-march=native): Adam's divisions and square root, vectorized,
  // are its largest cost. Neither flag may change a result: no fused multiply-adds (the ops round each product),
  // and -fno-math-errno only lets sqrt skip setting errno.
  run(
    process.env.CXX || 'g++',
    ['-std=c++17', '-O3', '-march=native', '-ffp-contract=off', '-fno-math-errno', '-shared', '-fPIC', '-w', '-D_GLIBCXX_USE_CXX11_ABI=1', '-DEIGEN_MAX_ALIGN_BYTES=64', `-I${o.include}`, `-I${nodeHeaders(o.nodeDir)}`, source, '-o', o.out, `-L${o.lib}`, `-l:${framework}`, `-Wl,-rpath,${o.lib}`],
    o.cwd,
    'building the fused kernels',
  );
  const check = run(
    process.execPath,
    [
      '-e',
      `process.env.TF_CPP_MIN_LOG_LEVEL='2'; const tf = require('@tensorflow/tfjs-node'); require(${JSON.stringify(o.out)});
const b = tf.backend(), B = b.binding;
// Two tensors with runs stacked: a [2, 5, 3] kernel with rows on its last axis and a [2, 4] bias (one row per run),
// with the update added in the pass; rows end to end: 2 × 3 + 2 × 1, then one padding row; parts: 2 × 2.
const [p, a, g, c, u] = [1, 2, 3, 4, 5].map((s) => [tf.randomNormal([2, 5, 3], 0, 1, 'float32', s), tf.randomNormal([2, 4], 0, 1, 'float32', 10 + s)]);
const at = [{ name: 'N', type: B.TF_ATTR_INT, value: 2 }, { name: 'stacked', type: B.TF_ATTR_BOOL, value: true }, { name: 'row_axes', type: B.TF_ATTR_INT, value: [2, 1] }];
const grad = [{ name: 'with_grad', type: B.TF_ATTR_BOOL, value: true }, { name: 'with_update', type: B.TF_ATTR_BOOL, value: true }, { name: 'pad', type: B.TF_ATTR_INT, value: 1 }, { name: 'eps', type: B.TF_ATTR_FLOAT, value: 1e-8 }];
const w = tf.linspace(1, 2, 9);
const [o1, o2, n, d, s, pm, pd] = b.executeMultipleOutputs('AnchorageRowOffsets', [...at, ...grad], [...p, ...a, ...g, ...c, ...u, w], 7);
const f = tf.linspace(0, 1, 9), parts = tf.tensor1d([0.5, 1, 2, 3]);
const scaleAdd = (update, inputs) => b.executeMultipleOutputs('AnchorageRowScaleAdd', [...at, { name: 'by_part', type: B.TF_ATTR_BOOL, value: true }, { name: 'update_parts', type: B.TF_ATTR_BOOL, value: update }], [...a, o1, o2, f, parts, ...inputs], 5);
const [y1, y2] = scaleAdd(false, [f, f, f, f, f]);
// FTP's constraint step in the scale-add: annealing k = 0.5, Adam at step 3, lr 0.01, floor 1e-8, pd and pm as gradient and ceiling.
const [pm0, pv0] = [tf.tensor1d([0.1, -0.2, 0, 0.3]), tf.tensor1d([0.01, 0.02, 0, 0.1])];
const coefficients = [0.9, 0.1, 0.999, 0.001, 0.271, Math.sqrt(1 - 0.999 ** 3), 1e-8];
const [z1, z2, gamma, gm, gv] = scaleAdd(true, [pd, pm, pm0, pv0, tf.tensor1d([...coefficients, 0.01, 1e-8, 0.5])]);
const gk = tf.where(tf.greater(pd, 0), tf.mul(pd, 0.5), pd);
const gm1 = tf.add(tf.mul(pm0, 0.9), tf.mul(gk, 0.1)), gv1 = tf.add(tf.mul(pv0, 0.999), tf.mul(tf.square(gk), 0.001));
const gamma1 = tf.minimum(tf.maximum(tf.sub(parts, tf.mul(tf.div(tf.div(gm1, 0.271), tf.add(tf.div(tf.sqrt(gv1), coefficients[5]), 1e-8)), 0.01)), 1e-8), pm);
const factor1 = tf.clipByValue(tf.mul(tf.gather(gamma1, tf.tensor1d([0, 0, 0, 1, 1, 1, 2, 3], 'int32')), f.slice(0, 8)), 0, 1);
const off = p.map((x, i) => tf.sub(tf.add(x, u[i]), a[i]));
const rows = (x) => tf.concat([tf.sum(x[0], 1).reshape([-1]), tf.sum(x[1], 1), tf.zeros([1])]);
const norms = rows(off.map((x) => tf.abs(x))), dots = rows(g.map((x, i) => tf.mul(x, c[i])));
const byPart = (v, reduce) => tf.stack([v.slice(0, 3), v.slice(3, 3), v.slice(6, 1), v.slice(7, 1)].map(reduce));
const factor = tf.clipByValue(tf.mul(tf.gather(parts, tf.tensor1d([0, 0, 0, 1, 1, 1, 2, 3], 'int32')), f.slice(0, 8)), 0, 1);
const err = Math.max(...[[o1, off[0]], [o2, off[1]], [n, norms], [d, dots], [s, tf.div(1, tf.add(norms, 1e-8))],
  [pm, byPart(tf.add(norms, 1e-8), (x) => tf.max(x))], [pd, byPart(tf.mul(dots, w), (x) => tf.sum(x))],
  [y1, tf.add(a[0], tf.mul(off[0], factor.slice(0, 6).reshape([2, 1, 3])))], [y2, tf.add(a[1], tf.mul(off[1], factor.slice(6, 2).reshape([2, 1])))],
  [gamma, gamma1], [gm, gm1], [gv, gv1], [z1, tf.add(a[0], tf.mul(off[0], factor1.slice(0, 6).reshape([2, 1, 3])))], [z2, tf.add(a[1], tf.mul(off[1], factor1.slice(6, 2).reshape([2, 1])))]]
  .map(([x, y]) => tf.max(tf.div(tf.abs(tf.sub(x, y)), tf.add(tf.abs(y), 1))).dataSync()[0]));
// Adam: the same bits as its ops (src/optim/transforms.ts), both tensors, at step 3.
const bc2 = Math.sqrt(1 - 0.999 ** 3), moments = [c, c.map((x) => tf.abs(x))];
const adam = b.executeMultipleOutputs('AnchorageAdam', [at[0]], [...g, ...moments[0], ...moments[1], tf.tensor1d([0.9, 0.1, 0.999, 0.001, 0.271, bc2, 1e-8])], 6);
const ops = g.map((x, i) => {
  const m = tf.add(tf.mul(moments[0][i], 0.9), tf.mul(x, 0.1)), v = tf.add(tf.mul(moments[1][i], 0.999), tf.mul(tf.square(x), 0.001));
  return [m, v, tf.div(tf.div(m, 0.271), tf.add(tf.div(tf.sqrt(v), bc2), 1e-8))];
});
const adamErr = Math.max(...[0, 1, 2].flatMap((k) => [0, 1].map((i) => tf.max(tf.abs(tf.sub(adam[k * 2 + i], ops[i][k]))).dataSync()[0])));
console.log(Math.max(err, adamErr));`,
    ],
    o.cwd,
    'checking the fused kernels',
  );
  const err = Number(check.trim().split(/\s+/).pop());
  if (!(err < 1e-5)) throw new NativeSetupError(`the fused kernels disagree with TensorFlow's ops (largest difference ${err})`);
  return o.out;
}
