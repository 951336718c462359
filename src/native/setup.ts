// `anchorage setup native`: the native TensorFlow backend built from a local
// TensorFlow C library — a libtensorflow tarball or the shared libraries
// inside a tensorflow-cpu wheel — for machines whose npm install cannot
// download libtensorflow (air-gapped clusters, this project's CI). Everything
// goes into one folder of anchorage's native cache (cache.ts), never into
// node_modules: the tfjs-node package with its binding, the fused kernels,
// and a manifest of what they were built for. The build is checked in a
// process of its own before it replaces an earlier one.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  BUILD_ENV,
  KERNELS_ABI,
  KERNELS_ADDON,
  STDIO_ADDON,
  PAGES_ADDON,
  MANIFEST_FORMAT,
  NAPI_VERSION,
  TENSORFLOW_VERSION,
  TFJS_NODE_VERSION,
  bindingPackage,
  buildKey,
  cacheRoot,
  insideNodeModules,
  type NativeManifest,
} from './cache.js';
import { cliPath } from '../package-root.js';
import { NativeBuildError, buildKernels, buildPlainAddon, nodeHeaders, run } from './build.js';

export { TENSORFLOW_VERSION };
export class NativeSetupError extends NativeBuildError {}

export interface SetupOptions {
  /** A .whl, a libtensorflow .tar.gz, or a folder holding lib/ (or the wheel's tensorflow/) and include/. */
  from?: string;
  /** Fetch the tensorflow-cpu wheel with `pip download` when no `from` is given. */
  download: boolean;
  /** 'portable' (default) or 'native': compile the fused kernels for this CPU alone. */
  target: 'portable' | 'native';
  log: (line: string) => void;
}

/** A folder with libtensorflow*.so.2 and include/tensorflow/c/c_api.h, from whatever the user gave. */
function unpack(source: string, cache: string, log: (l: string) => void): { lib: string; include: string } {
  const abs = resolve(source);
  if (!existsSync(abs)) throw new NativeSetupError(`${source}: no such file or folder`);
  let dir = abs;
  if (statSync(abs).isFile()) {
    dir = join(cache, 'tensorflow', basename(abs).replace(/\.(whl|tar\.gz|tgz)$/, ''));
    if (!existsSync(join(dir, '.complete'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      log(`unpacking ${basename(abs)} (shared libraries and C headers only)`);
      if (abs.endsWith('.whl')) {
        const script =
          'import zipfile,sys\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[2], [n for n in ' +
          "z.namelist() if n.startswith('tensorflow/libtensorflow') or n.startswith('tensorflow/include/')])";
        run('python3', ['-c', script, abs, dir], cache, 'unpacking the wheel');
      } else if (/\.(tar\.gz|tgz)$/.test(abs)) {
        run('tar', ['xzf', abs, '-C', dir], cache, 'unpacking the tarball');
      } else throw new NativeSetupError(`${source}: expected a .whl, a .tar.gz or a folder`);
      writeFileSync(join(dir, '.complete'), '');
    }
  }
  for (const candidate of [dir, join(dir, 'tensorflow')]) {
    const libDir = [join(candidate, 'lib'), candidate].find(
      (d) => existsSync(d) && readdirSync(d).some((f) => /^libtensorflow(_cc)?\.so\.2/.test(f)),
    );
    const include = join(candidate, 'include');
    if (libDir && existsSync(join(include, 'tensorflow', 'c', 'c_api.h'))) return { lib: libDir, include };
  }
  throw new NativeSetupError(
    `${source}: found no libtensorflow(_cc).so.2 with include/tensorflow/c/c_api.h beside it; give a ` +
      `tensorflow-cpu wheel, a libtensorflow tarball or such a folder`,
  );
}

function downloadWheel(cache: string, log: (l: string) => void): string {
  const wheels = join(cache, 'tensorflow');
  const existing = existsSync(wheels)
    ? readdirSync(wheels).find((f) => f.startsWith(`tensorflow_cpu-${TENSORFLOW_VERSION}-`) && f.endsWith('.whl'))
    : undefined;
  if (existing) return join(wheels, existing);
  log(`downloading tensorflow-cpu==${TENSORFLOW_VERSION} with pip (about 270 MB)`);
  mkdirSync(wheels, { recursive: true });
  run(
    'python3',
    [
      '-m',
      'pip',
      'download',
      `tensorflow-cpu==${TENSORFLOW_VERSION}`,
      '--no-deps',
      '--only-binary=:all:',
      '-d',
      wheels,
    ],
    cache,
    'pip download',
  );
  const wheel = readdirSync(wheels).find((f) => f.startsWith('tensorflow_cpu-') && f.endsWith('.whl'));
  if (!wheel) throw new NativeSetupError('pip reported success but left no tensorflow_cpu wheel');
  return join(wheels, wheel);
}

function nodeGyp(): string[] {
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const bundled = join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? [process.execPath, bundled] : ['npx', '--yes', 'node-gyp'];
}

/** tfjs-node's JavaScript where npm installed it (the lock file's optional tfjs-node-gpu is the same code). */
function installedBindingSource(): string | undefined {
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    try {
      return dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      /* not installed: the next */
    }
  }
  return undefined;
}

/**
 * tfjs-node's JavaScript and its dependencies, fetched from the npm registry into the cache without its install
 * script. That script downloads libtensorflow, which fails on an offline machine, and npm then drops the optional
 * package altogether: the build supplies the library itself. Packages anchorage has (tfjs-core and the rest, the
 * same versions) are linked to anchorage's copies, so that one TensorFlow.js is loaded, not two.
 */
function fetchedBindingSource(cache: string, log: (line: string) => void): string {
  const prefix = join(cache, `tfjs-node-${TFJS_NODE_VERSION}`);
  const pkg = join(prefix, 'node_modules', '@tensorflow', 'tfjs-node');
  if (!existsSync(join(pkg, 'package.json'))) {
    log(`@tensorflow/tfjs-node is not installed (its install script needs a network): fetching its JavaScript`);
    const args = ['install', '--prefix', prefix, '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'];
    run('npm', [...args, '--omit=dev', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], cache, 'npm install');
  }
  const require = createRequire(import.meta.url);
  const scope = join(prefix, 'node_modules', '@tensorflow');
  for (const name of readdirSync(scope).filter((n) => n !== 'tfjs-node')) {
    const own = join(scope, name);
    let ours: string;
    try {
      ours = realpathSync(dirname(require.resolve(`@tensorflow/${name}/package.json`)));
    } catch {
      continue; // anchorage has no copy: the fetched one serves
    }
    const version = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    if (realpathSync(own) === ours || version(own) !== version(ours)) continue;
    rmSync(own, { recursive: true, force: true });
    link(ours, own);
  }
  return pkg;
}

/**
 * Puts tfjs-node's package into the build folder: its JavaScript copied, each
 * of its dependencies linked to the copy npm installed (so that it uses the
 * same TensorFlow.js as anchorage), the TensorFlow library linked under deps/.
 */
function placeBindingPackage(build: string, tf: { lib: string; include: string }, source: string): string {
  const pkg = bindingPackage(build);
  mkdirSync(dirname(pkg), { recursive: true });
  cpSync(source, pkg, {
    recursive: true,
    filter: (f) => !/[/\\](node_modules|deps|build|lib[/\\]napi-v\d+)([/\\]|$)/.test(f.slice(source.length)),
  });
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const require = createRequire(join(source, 'package.json'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    let at: string;
    try {
      at = realpathSync(dirname(require.resolve(`${dep}/package.json`)));
    } catch {
      continue; // an install-time dependency npm left out; the binding does not load it
    }
    link(at, join(build, 'node_modules', dep));
  }
  const deps = join(pkg, 'deps');
  mkdirSync(join(deps, 'lib'), { recursive: true });
  for (const f of readdirSync(tf.lib).filter((f) => f.startsWith('libtensorflow')))
    link(join(tf.lib, f), join(deps, 'lib', f));
  // The binding links -ltensorflow: a wheel calls that library libtensorflow_cc.
  const cc = readdirSync(tf.lib).find((f) => /^libtensorflow_cc\.so\.2$/.test(f));
  if (cc && !existsSync(join(deps, 'lib', 'libtensorflow.so')))
    link(join(tf.lib, cc), join(deps, 'lib', 'libtensorflow.so'));
  const fw = readdirSync(tf.lib).find((f) => /^libtensorflow_framework\.so\.2$/.test(f));
  if (fw && !existsSync(join(deps, 'lib', 'libtensorflow_framework.so')))
    link(join(tf.lib, fw), join(deps, 'lib', 'libtensorflow_framework.so'));
  link(tf.include, join(deps, 'include'));
  return pkg;
}

/** A relative symbolic link, so that the build survives the project folder being moved with its node_modules. */
function link(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(relative(dirname(at), target), at);
}

/** Builds the native backend into the cache, checks it in another process, then puts it in place. */
export function setupNative(opts: SetupOptions): { tensorflow: string; dir: string; kernels: string } {
  const cache = cacheRoot();
  if (insideNodeModules(cache))
    throw new NativeSetupError(
      `the native cache ${cache} is inside node_modules, which npm ci deletes; set ANCHORAGE_NATIVE_CACHE to ` +
        `another folder`,
    );
  const source = opts.from ?? (opts.download ? downloadWheel(cache, opts.log) : undefined);
  if (!source) {
    throw new NativeSetupError(
      `no TensorFlow C library given. Provide one of:\n` +
        `  --from tensorflow_cpu-${TENSORFLOW_VERSION}-*.whl   (pip download ` +
        `tensorflow-cpu==${TENSORFLOW_VERSION} --no-deps)\n` +
        `  --from libtensorflow-cpu-linux-x86_64-*.tar.gz\n` +
        `  --from <folder with lib/libtensorflow*.so.2 and include/>\n` +
        `or --download to fetch the wheel with pip.`,
    );
  }
  mkdirSync(cache, { recursive: true });
  const tf = unpack(source, cache, opts.log);
  const manifest: NativeManifest = {
    format: MANIFEST_FORMAT,
    tensorflow: TENSORFLOW_VERSION,
    napi: NAPI_VERSION,
    arch: process.arch,
    target: opts.target,
    cpuFeatures: [],
    kernels: null,
    builtAt: new Date().toISOString(),
  };
  const final = join(cache, buildKey(manifest));
  const build = `${final}.tmp-${process.pid}`;
  rmSync(build, { recursive: true, force: true });
  try {
    const pkg = placeBindingPackage(build, tf, installedBindingSource() ?? fetchedBindingSource(cache, opts.log));
    opts.log('building the tfjs-node binding (node-gyp)');
    const [cmd, ...pre] = nodeGyp();
    // Node's own headers where the distribution ships them (no header download on an offline machine).
    const nodeDir = process.env.npm_config_nodedir ?? dirname(dirname(process.execPath));
    const headers = existsSync(join(nodeDir, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodeDir}`] : [];
    run(
      cmd,
      [
        ...pre,
        'rebuild',
        ...headers,
        '--module_name=tfjs_binding',
        `--module_path=${join(pkg, 'lib', `napi-v${NAPI_VERSION}`)}`,
        `--napi_build_version=${NAPI_VERSION}`,
      ],
      pkg,
      'building the binding',
    );
    rmSync(join(pkg, 'build'), { recursive: true, force: true });
    let kernels: string;
    try {
      opts.log(`building anchorage's fused kernels (g++, ${opts.target})`);
      manifest.cpuFeatures = buildKernels({
        ...tf,
        nodeHeaders: nodeHeaders(nodeDir),
        out: join(build, KERNELS_ADDON),
        target: opts.target,
        cwd: build,
      });
      manifest.kernels = { abi: KERNELS_ABI };
      kernels = 'built';
    } catch (e) {
      // The backend works without them (the op path runs): say so, do not fail the setup.
      rmSync(join(build, KERNELS_ADDON), { force: true });
      opts.log(`warning: ${(e as Error).message}`);
      kernels = 'not built (see the warning above)';
    }
    const plain = [
      // Without it TensorFlow's oneDNN notice reaches stderr at load; nothing else changes.
      { source: 'stdio_guard.c', out: STDIO_ADDON, what: 'the stdio guard' },
      // Without it the process keeps every page of TensorFlow's library its load touched; nothing else changes.
      { source: 'library_pages.c', out: PAGES_ADDON, what: "the library pages' release" },
    ];
    for (const addon of plain) {
      try {
        buildPlainAddon({ ...addon, nodeHeaders: nodeHeaders(nodeDir), out: join(build, addon.out), cwd: build });
      } catch (e) {
        rmSync(join(build, addon.out), { force: true });
        opts.log(`warning: ${(e as Error).message}`);
      }
    }
    writeFileSync(join(build, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const checked = check(build);
    if (checked.tensorflow === undefined) throw new NativeSetupError(`the build does not load: ${checked.error}`);
    if (manifest.kernels && checked.kernels !== 'ok') {
      opts.log(`warning: the fused kernels failed their check (${checked.kernels}); the backend runs without them`);
      rmSync(join(build, KERNELS_ADDON), { force: true });
      manifest.kernels = null;
      writeFileSync(join(build, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      kernels = 'failed their check';
    }
    replaceFolder(build, final);
    return { tensorflow: checked.tensorflow, dir: final, kernels };
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/**
 * Loads a build in a process of its own and runs the self-check: the TensorFlow version, and 'ok' or why the kernels
 * are not.
 */
function check(build: string): { tensorflow?: string; kernels?: string; error?: string } {
  const bin = cliPath();
  const r = spawnSync(process.execPath, [bin, 'setup', 'native', '--check'], {
    encoding: 'utf8',
    env: { ...process.env, [BUILD_ENV]: build, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line)
    return {
      error:
        `${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}: ` +
        `${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' ')}`,
    };
  return JSON.parse(line) as { tensorflow: string; kernels: string };
}

/** Puts a folder in place of another: the old one is moved aside first and removed only once the new one stands. */
function replaceFolder(from: string, to: string): void {
  const old = `${to}.old-${process.pid}`;
  if (existsSync(to)) renameSync(to, old);
  renameSync(from, to);
  rmSync(old, { recursive: true, force: true });
}
