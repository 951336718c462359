// Problems that must stop an experiment before any training, with the user's
// own message and exit 2 — never after hours of training, never hidden
// behind an internal error.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Int32,
  Int64,
  Table,
  Utf8,
  makeVector,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { saveLayersModel } from '../../src/models/layers-file.js';
import { TINY_SPEC, runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

describe('bad input found before training', () => {
  it('a plugin that fails after making tensors is reported with its own message, not as a preflight leak', () => {
    const dir = scratchDir('leak');
    writeFileSync(
      join(dir, 'picky.ts'),
      `import { definePlugin, tf } from 'anchorage';
export default definePlugin({
  kind: 'optimizer',
  name: 'picky',
  description: 'makes a tensor, then rejects the model',
  options: {},
  create() {
    const kept = tf.keep(tf.zeros([3]));
    void kept;
    throw new Error('weights of shape [3] do not fit fc1.kernel [16, 32]');
  },
});
`,
    );
    const file = writeExperiment(dir, { ...TINY_SPEC, plugins: ['./picky.ts'], optimizer: { name: 'picky' } });
    const r = runCli(['run', file, '--out', join(dir, 'results')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 problem:\n\s+optimizer: weights of shape \[3\] do not fit fc1\.kernel \[16, 32\]/);
    expect(r.stderr).not.toMatch(/leaked/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it(
    'augmentations on non-image data, or normalize with the wrong number of channels: exit 2 naming augment[i], ' +
      'nothing written',
    () => {
      const dir = scratchDir('augment-bad');
      const out = join(dir, 'results');
      const flat = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, augment: [{ name: 'horizontal-flip' }] }, 'flat.ts'),
        '--out',
        out,
      ]);
      expect(flat.code).toBe(2);
      expect(flat.stderr).toMatch(
        /augment\[0\]: augmentations need images \[height, width, channels\], but the examples have shape \[16\]/,
      );
      const images = { ...TINY_SPEC.dataset, imageShape: [4, 4, 1] };
      const channels = runCli([
        'run',
        writeExperiment(
          dir,
          {
            ...TINY_SPEC,
            dataset: images,
            augment: [
              { name: 'random-crop', padding: 1 },
              { name: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] },
            ],
          },
          'channels.ts',
        ),
        '--out',
        out,
      ]);
      expect(channels.code).toBe(2);
      expect(channels.stderr).toMatch(/augment\[1\]: mean and std have 3 values but the images have 1 channel/);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('an unwritable results folder stops the experiment before the first step', () => {
    const dir = scratchDir('unwritable');
    const file = writeExperiment(dir, TINY_SPEC);
    writeFileSync(join(dir, 'taken'), 'a file where the results folder should be');
    mkdirSync(join(dir, 'results'));
    writeFileSync(join(dir, 'results', 'tiny'), "a file where the experiment's folder should be");
    for (const [out, why] of [
      [join(dir, 'taken'), /results folder .*taken\/tiny is not a writable folder: .*taken is a file/],
      [join(dir, 'results'), /results folder .*results\/tiny is not a writable folder: .*results\/tiny is a file/],
      [join(dir, 'taken', 'results'), /is not a writable folder: .*taken is a file/],
      [join(dir, 'x'.repeat(300)), /is longer than 255 bytes/],
    ] as const) {
      const r = runCli(['run', file, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).not.toMatch(/backend:/); // nothing started
    }
    expect(readdirSync(dir).sort()).toEqual(['experiment.ts', 'results', 'taken']);
    expect(readdirSync(join(dir, 'results'))).toEqual(['tiny']);
  });
});

describe('memory', () => {
  it('memories, copies and paddings no machine can hold are refused with the estimate and the limit', () => {
    const dir = scratchDir('memory');
    const images = { ...TINY_SPEC.dataset, features: 48, imageShape: [4, 4, 3] };
    const cases = [
      [
        { strategy: { name: 'der', size: 1e12 } },
        /strategy\.size: a memory of 1000000000000 examples would take about/,
      ],
      [{ strategy: { name: 'er-ace', size: 1e12 } }, /strategy\.size: a memory of 1000000000000 examples would take/],
      [{ strategy: { name: 'gdumb', size: 40, passes: 1e9 } }, /strategy\.passes: 1000000000 copies of a memory of 40/],
      [{ dataset: images, augment: [{ name: 'random-crop', padding: 1e6 }] }, /augment\[0\]\.padding: a padding of/],
    ] as const;
    for (const [i, [change, message]] of cases.entries()) {
      const file = writeExperiment(dir, { ...TINY_SPEC, ...change }, `e${i}.ts`);
      const r = runCli(['run', file, '--out', join(dir, 'results')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(
        /would take (about [\d.]+ [KMGT]B, more than (this machine's memory|the wasm backend's heap)|an array)/,
      );
    }
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});

describe('complete means valid', () => {
  it('a run whose table is truncated is redone by `run` and listed as unreadable by `compare`, which goes on', () => {
    const dir = scratchDir('truncated');
    const out = join(dir, 'results');
    const file = writeExperiment(dir, TINY_SPEC);
    expect(runCli(['run', file, '--out', out, '--seeds', '0,1', '--quiet']).code).toBe(0);
    const [broken, intact] = readdirSync(join(out, 'tiny')).sort();
    const evals = join(out, 'tiny', broken, 'evals.arrow');
    const whole = readFileSync(evals);
    writeFileSync(evals, whole.subarray(0, Math.floor(whole.length / 3)));

    const c = runCli(['compare', out]);
    expect(c.code).toBe(0);
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(new RegExp(`${broken}: unreadable: evals\\.arrow does not read back`));
    expect(c.stdout).toMatch(/1 run/); // the intact run is still compared
    expect(c.stdout).not.toContain(`${intact}: unreadable`);

    const again = runCli(['run', file, '--out', out, '--seeds', '0,1', '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`run ${intact}: complete results exist`));
    expect(again.stdout).not.toMatch(new RegExp(`run ${broken}: complete results exist`));
    expect(readFileSync(evals).equals(whole)).toBe(true); // redone: the same table again
  });
});

describe('seeds', () => {
  it(
    "are refused beyond the generator's 32-bit range (they would repeat smaller seeds), and absurd sweeps are " +
      'refused without running out of memory',
    () => {
      const dir = scratchDir('seeds');
      const wrapped = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, seeds: [0, 4294967296] }),
        '--out',
        join(dir, 'results'),
      ]);
      expect(wrapped.code).toBe(2);
      expect(wrapped.stderr).toMatch(
        regex(
          /seeds: must be a non-empty array of integers from 0 to 4294967295 /,
          /\(the generator's 32-bit range\), got \[0,4294967296\]/,
        ),
      );
      const file = writeExperiment(dir, TINY_SPEC, 'ok.ts');
      const huge = runCli(['run', file, '--seeds', '0-99999999999', '--out', join(dir, 'results')]);
      expect(huge.code).toBe(2);
      expect(huge.stderr).toMatch(/--seeds: 99999999999 is beyond the largest seed, 4294967295/);
      const many = runCli(['run', file, '--seeds', '0-20000', '--out', join(dir, 'results')]);
      expect(many.code).toBe(2);
      expect(many.stderr).toMatch(/--seeds: 0-20000 is 20001 seeds; at most 10000 per experiment/);
      expect(existsSync(join(dir, 'results'))).toBe(false);
    },
  );
});

describe('samplers', () => {
  it(
    'a k larger than a class, or a fraction that leaves fewer examples than classes, is reported before training ' +
      '(exit 2)',
    () => {
      const dir = scratchDir('sampler');
      const out = join(dir, 'results');
      // 48 training examples per class in TINY_SPEC.
      const k = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, sampler: { name: 'per-class', k: 60 } }, 'k.ts'),
        '--out',
        out,
      ]);
      expect(k.code).toBe(2);
      expect(k.stderr).toMatch(/sampler: k = 60 but class 0 of task t0:\{0,1\} has only 48 training examples/);
      const f = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, sampler: { name: 'fraction', fraction: 0.01 } }, 'f.ts'),
        '--out',
        out,
      ]);
      expect(f.code).toBe(2);
      expect(f.stderr).toMatch(
        /sampler: fraction 0\.01 of task t0:\{0,1\}'s 96 examples is \d+, fewer than its 2 classes/,
      );
      expect(existsSync(out)).toBe(false);
    },
  );
});

describe('data values', () => {
  /** An Arrow file with a fixed-size-list column of `child` values and an integer label column. */
  function arrowFile(path: string, child: Vector, listSize: number, labels: Vector) {
    const features = makeVector({
      type: new FixedSizeList(listSize, new Field('item', child.type)),
      length: labels.length,
      nullCount: 0,
      child: child.data[0],
    } as never);
    writeFileSync(path, tableToIPC(new Table({ features, label: labels }), 'file'));
  }
  const four = (n: number) => Array.from({ length: n * 4 }, (_, i) => (i % 7) / 7);
  const labels = [0, 1, 0, 1, 0, 1];
  function run(dir: string, train: string, file: string) {
    const spec = {
      ...TINY_SPEC,
      dataset: { name: 'arrow', train, test: 'ok.arrow' },
      stream: { name: 'split', tasks: [[0, 1]] },
    };
    return runCli(['run', writeExperiment(dir, spec, file), '--out', join(dir, 'results')]);
  }

  it(
    'a feature column of strings, a NaN feature, a label beyond 2^31 and NaN pre-trained weights are bad input ' +
      '(exit 2), not a diverged run',
    () => {
      const dir = scratchDir('values');
      arrowFile(
        join(dir, 'ok.arrow'),
        vectorFromArray(Float32Array.from(four(6))),
        4,
        vectorFromArray(labels, new Int32()),
      );
      arrowFile(
        join(dir, 'strings.arrow'),
        vectorFromArray(four(6).map(String), new Utf8()),
        4,
        vectorFromArray(labels, new Int32()),
      );
      const nan = four(6);
      nan[9] = NaN;
      arrowFile(
        join(dir, 'nan.arrow'),
        vectorFromArray(Float32Array.from(nan)),
        4,
        vectorFromArray(labels, new Int32()),
      );
      arrowFile(
        join(dir, 'big.arrow'),
        vectorFromArray(Float32Array.from(four(6))),
        4,
        vectorFromArray([0n, 1n, 0n, 2n ** 33n, 0n, 1n], new Int64()),
      );

      const strings = run(dir, 'strings.arrow', 'strings.ts');
      expect(strings.code).toBe(2);
      expect(strings.stderr).toMatch(/strings\.arrow: column 'features' must hold numbers, got a list of Utf8/);
      const nanRun = run(dir, 'nan.arrow', 'nan.ts');
      expect(nanRun.code).toBe(2);
      expect(nanRun.stderr).toMatch(/dataset: train example 2 has a non-finite feature \(NaN\) at position 1/);
      const big = run(dir, 'big.arrow', 'big.ts');
      expect(big.code).toBe(2);
      expect(big.stderr).toMatch(/big\.arrow: label 8589934592 at row 3 is too large for a class index/);

      // A pre-trained model file whose weights hold a NaN.
      const layers = [
        { type: 'dense' as const, name: 'fc1', units: 3, activation: 'relu' as const, useBias: true },
        { type: 'dense' as const, name: 'head', units: 2, activation: 'linear' as const, useBias: true },
      ];
      const w = new Map([
        [
          'fc1.weight',
          { shape: [4, 3], values: Float32Array.from([0.1, NaN, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2]) },
        ],
        ['fc1.bias', { shape: [3], values: new Float32Array(3) }],
        ['head.weight', { shape: [3, 2], values: new Float32Array(6).fill(0.1) }],
        ['head.bias', { shape: [2], values: new Float32Array(2) }],
      ]);
      saveLayersModel(join(dir, 'pre'), layers, [4], w);
      const spec = {
        ...TINY_SPEC,
        dataset: { name: 'arrow', train: 'ok.arrow', test: 'ok.arrow' },
        stream: { name: 'split', tasks: [[0, 1]] },
        model: { name: 'pretrained', path: 'pre' },
      };
      const pre = runCli(['run', writeExperiment(dir, spec, 'pre.ts'), '--out', join(dir, 'results')]);
      expect(pre.code).toBe(2);
      expect(pre.stderr).toMatch(/model: parameter fc1\.weight holds NaN or infinite values/);
      expect(existsSync(join(dir, 'results'))).toBe(false);
    },
  );
});

describe('saved models', () => {
  it(
    'a template with an unknown field, two runs on one path, or a path inside a run folder are refused before ' +
      'training',
    () => {
      const dir = scratchDir('save-model');
      const out = join(dir, 'results');
      const unknown = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, saveModel: 'pre/{nosuch}' }, 'a.ts'),
        '--out',
        out,
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/saveModel: unknown field \{nosuch\}; fields: \{seed\}, \{runId\}/);
      const shared = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, saveModel: 'pre/{model}', seeds: [0, 1] }, 'b.ts'),
        '--out',
        out,
      ]);
      expect(shared.code).toBe(2);
      expect(shared.stderr).toMatch(
        regex(
          /saveModel: 'pre\/\{model\}' gives runs adamw-s0-\w+ and adamw-s1-\w+ the /,
          /same path pre\/mlp; add a field that tells them apart, e\.g\. \{seed\}/,
        ),
      );
      const inside = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, saveModel: '{experiment}/{runId}/model' }, 'c.ts'),
        '--out',
        out,
      ]);
      expect(inside.code).toBe(2);
      expect(inside.stderr).toMatch(
        regex(
          /saveModel: '\{experiment\}\/\{runId\}\/model' puts run /,
          /adamw-s0-\w+'s model inside run folder tiny\/adamw-s0-\w+/,
        ),
      );
      expect(existsSync(out)).toBe(false);
      const fine = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, saveModel: 'pre/{model}-{seed}', seeds: [0, 1] }, 'd.ts'),
        '--out',
        out,
        '--quiet',
      ]);
      expect(fine.code).toBe(0);
      expect(readdirSync(join(out, 'pre')).sort()).toEqual(['mlp-0', 'mlp-1']);
    },
  );
});

describe('strategies and what they require', () => {
  it(
    'a pre-trained-model strategy on a randomly initialised model, a projection width of 0, a slow fraction of 0 ' +
      'and a VAE latent size of 0 exit 2 naming the field, and write nothing',
    () => {
      const dir = scratchDir('pretrained-cl-bad');
      const out = join(dir, 'results');
      for (const name of ['simplecil', 'ranpac', 'aper', 'slca']) {
        const r = runCli([
          'run',
          writeExperiment(dir, { ...TINY_SPEC, strategy: { name } }, `${name}.ts`),
          '--out',
          out,
        ]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          regex(
            new RegExp(`strategy: strategy '${name}' learns on a pre-trained backbone, and the model has no `),
            /pre-trained weights \(mlp .*\); use model 'pretrained' with the path of a saved model/,
          ),
        );
      }
      const width = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, strategy: { name: 'ranpac', projection: 0 } }, 'width.ts'),
        '--out',
        out,
      ]);
      expect(width.code).toBe(2);
      expect(width.stderr).toMatch(/strategy\.projection: .*>= 1, got 0/);
      const slow = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, strategy: { name: 'slca', slow: 0 } }, 'slow.ts'),
        '--out',
        out,
      ]);
      expect(slow.code).toBe(2);
      expect(slow.stderr).toMatch(/strategy\.slow: .*> 0 and <= 1, got 0/);
      const latent = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, strategy: { name: 'dgr', latent: 0 } }, 'latent.ts'),
        '--out',
        out,
      ]);
      expect(latent.code).toBe(2);
      expect(latent.stderr).toMatch(/strategy\.latent: .*>= 1, got 0/);
      expect(existsSync(out)).toBe(false);
    },
  );
});
