// The native cache: where builds go (never inside node_modules, which npm ci
// deletes), and which build a process loads — a build for a CPU this one
// lacks is refused with one line naming what it lacks, and the portable
// build or the op path takes over; through the CLI too.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MANIFEST_FORMAT,
  NAPI_VERSION,
  TENSORFLOW_VERSION,
  buildKey,
  cacheRoot,
  chooseBuild,
  cpuFeatures,
  insideNodeModules,
  manifestProblem,
  projectRoot,
  type NativeManifest,
} from '../../src/native/cache.js';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

const manifest = (over: Partial<NativeManifest> = {}): NativeManifest => ({
  format: MANIFEST_FORMAT,
  tensorflow: TENSORFLOW_VERSION,
  napi: NAPI_VERSION,
  arch: process.arch,
  target: 'portable',
  cpuFeatures: [],
  kernels: { abi: 3 },
  builtAt: '2026-01-01T00:00:00Z',
  ...over,
});

/** A cache holding fake builds (a manifest alone: enough to be chosen or refused). */
function cacheWith(...builds: NativeManifest[]): string {
  const root = scratchDir('native-cache');
  for (const m of builds) {
    mkdirSync(join(root, buildKey(m)), { recursive: true });
    writeFileSync(join(root, buildKey(m), 'manifest.json'), JSON.stringify(m));
  }
  return root;
}

describe('native cache', () => {
  it('lies in the project, outside node_modules, when anchorage is installed as a dependency too', () => {
    expect(projectRoot('/home/u/proj/node_modules/anchorage')).toBe('/home/u/proj');
    expect(projectRoot('/home/u/anchorage')).toBe('/home/u/anchorage');
    expect(insideNodeModules(cacheRoot({}))).toBe(false);
    expect(cacheRoot({ ANCHORAGE_NATIVE_CACHE: '/scratch/cache' })).toBe('/scratch/cache');
    expect(insideNodeModules('/home/u/proj/node_modules/x')).toBe(true);
  });

  it(
    'refuses a build for a CPU with features this one lacks, another architecture, Node-API or manifest format, ' +
      'naming why',
    () => {
      const cpu = new Set(['sse2', 'avx', 'avx2']);
      expect(manifestProblem(manifest(), cpu)).toBeUndefined();
      expect(manifestProblem(manifest({ target: 'native', cpuFeatures: ['avx2', 'avx512f'] }), cpu)).toBe(
        'it was built for a CPU with avx512f, which this one lacks',
      );
      expect(manifestProblem(manifest({ target: 'native', cpuFeatures: ['avx2'] }), undefined)).toMatch(
        /needs CPU features \(avx2\) this machine does not report/,
      );
      expect(manifestProblem(manifest({ arch: 'arm64' }), cpu, 'x64')).toBe(
        'it was built for arm64, this machine is x64',
      );
      expect(manifestProblem(manifest({ napi: 3 }), cpu)).toMatch(/Node-API 3/);
      expect(manifestProblem({ ...manifest(), format: 'anchorage-native/0' }, cpu)).toMatch(
        /format "anchorage-native\/0"/,
      );
    },
  );

  it(
    'loads a build for this CPU before the portable one, the portable one when the other does not fit, and says ' +
      'what it passed over',
    () => {
      const cpu = new Set(['sse2', 'avx2']);
      const fits = manifest({ target: 'native', cpuFeatures: ['avx2'] });
      const lacks = manifest({ target: 'native', cpuFeatures: ['avx2', 'avx1024'] });
      expect(chooseBuild(cacheWith(manifest(), fits), cpu).entry?.manifest.target).toBe('native');
      const fallback = chooseBuild(cacheWith(manifest(), lacks), cpu);
      expect(fallback.entry?.manifest.target).toBe('portable');
      expect(fallback.refused).toEqual([
        expect.stringMatching(/-native: it was built for a CPU with avx1024, which this one lacks$/),
      ]);
      const none = chooseBuild(cacheWith(lacks), cpu);
      expect(none.entry).toBeUndefined();
      expect(none.refused).toHaveLength(1);
      // Builds of another TensorFlow, half-written folders and unreadable manifests are not builds.
      const root = cacheWith(manifest({ tensorflow: '2.9.0' }));
      mkdirSync(join(root, `${buildKey(manifest())}.tmp-123`));
      writeFileSync(join(root, `${buildKey(manifest())}.tmp-123`, 'manifest.json'), JSON.stringify(manifest()));
      expect(chooseBuild(root, cpu)).toEqual({ refused: [] });
    },
  );

  it('reads the CPU features this machine reports', () => {
    const features = cpuFeatures();
    if (process.platform === 'linux') expect(features?.size).toBeGreaterThan(0);
    const fake = join(scratchDir('cpuinfo'), 'cpuinfo');
    writeFileSync(fake, 'processor\t: 0\nflags\t\t: fpu sse2 avx2\n');
    expect([...cpuFeatures(fake)!]).toEqual(['fpu', 'sse2', 'avx2']);
    expect(cpuFeatures('/no/such/file')).toBeUndefined();
  });

  it(
    '`anchorage run` on a machine its only build does not fit: one line naming the missing feature, and wasm ' +
      'trains instead',
    () => {
      const root = cacheWith(manifest({ target: 'native', cpuFeatures: ['avx1024'] }));
      const dir = scratchDir('foreign-build');
      const experiment = writeExperiment(dir, { ...TINY_SPEC, train: { epochs: 1, batchSize: 16 } });
      const refused = runCli(['run', experiment, '--out', join(dir, 'out'), '--backend', 'tensorflow'], {
        env: { ANCHORAGE_NATIVE_CACHE: root },
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(
        /native cache .*-native: it was built for a CPU with avx1024, which this one lacks/,
      );
      const fallback = runCli(['run', experiment, '--out', join(dir, 'out'), '--backend', 'auto'], {
        env: { ANCHORAGE_NATIVE_CACHE: root, ANCHORAGE_BACKEND: '' },
      });
      expect(fallback.code).toBe(0);
      expect(fallback.stdout).toMatch(/^backend: wasm/m);
      expect(fallback.stdout).toMatch(/not used: native TensorFlow: native cache .*avx1024, which this one lacks/);
    },
  );
});
