import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { ExperimentError, validateExperiment } from '../../src/spec/validate.js';
import { ROOT, TINY_SPEC, problemsOf, tinyConfigs } from '../helpers.js';

describe('experiment validation', () => {
  it('expands a valid spec into one resolved run per seed with stable ids', () => {
    const { configs } = tinyConfigs(TINY_SPEC, [0, 1]);
    expect(configs.map((c) => c.seed)).toEqual([0, 1]);
    expect(configs[0].runId).toMatch(/^adamw-s0-[0-9a-f]{8}$/);
    expect(configs[0].runId).not.toBe(configs[1].runId);
    expect(tinyConfigs(TINY_SPEC, [0, 1]).configs[0].runId).toBe(configs[0].runId);
    expect(configs[0].components.optimizer.options).toEqual({
      lr: 3e-2,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      decayExclude: [],
    });
    expect(configs[0].components.sampler).toEqual({ name: 'shuffled', options: {} });
    expect(configs[0].scenario).toBe('class-il');
    // A changed option changes the id: results of different configurations never collide.
    expect(tinyConfigs({ ...TINY_SPEC, optimizer: { name: 'adamw', lr: 0.1 } }).configs[0].runId).not.toBe(
      configs[0].runId,
    );
  });

  it('reports every problem at once, with field paths', () => {
    const p = problemsOf({
      ...TINY_SPEC,
      name: 'Bad Name',
      optimizer: { name: 'adamw', lr: -1, betas: 3 },
      model: { name: 'mlp', hidden: 'wide' },
      train: { epochs: 0, batchsize: 3 },
      scenario: 'task-incremental',
      seeds: [1, 1],
      colour: 'blue',
    });
    expect(p['name']).toMatch(/lower-case/);
    expect(p['optimizer.lr']).toMatch(/must be a number > 0, got -1|must be > 0, got -1/);
    expect(p['optimizer.betas']).toMatch(/unknown option; allowed: lr, beta1, beta2, eps, weightDecay/);
    expect(p['model.hidden']).toMatch(/array of integers/);
    expect(p['train.epochs']).toMatch(/>= 1, got 0/);
    expect(p['train.batchsize']).toMatch(/unknown field; allowed: epochs, steps, batchSize, logEvery/);
    expect(p['scenario']).toMatch(/"class-il" \| "task-il" \| "domain-il"/);
    expect(p['seeds']).toMatch(/duplicates/);
    expect(p['colour']).toMatch(/unknown field/);
  });

  it('names the registered plugins when a name is unknown', () => {
    const p = problemsOf({ ...TINY_SPEC, optimizer: { name: 'adamx' }, stream: { name: 'permutted' } });
    expect(p['optimizer.name']).toBe("unknown optimizer 'adamx'; registered: adamw, ftp, l2sp, pgd, sgd, spd, tpgm");
    expect(p['stream.name']).toMatch(
      /unknown stream 'permutted'; registered: blurry, permuted, rotated, shifted, split/,
    );
  });

  it('runs plugin-level checks', () => {
    expect(problemsOf({ ...TINY_SPEC, optimizer: { name: 'sgd', nesterov: true } })['optimizer.nesterov']).toMatch(
      /momentum > 0/,
    );
    expect(
      problemsOf({
        ...TINY_SPEC,
        stream: {
          name: 'split',
          tasks: [
            [0, 1],
            [1, 2],
          ],
        },
      })['stream.tasks[1]'],
    ).toMatch(/class 1 appears in more than one task/);
  });

  it('rejects a module without an experiment', () => {
    expect(problemsOf(null as unknown as object)['(spec)']).toMatch(/export default defineExperiment/);
  });

  it('checks anchored optimizer options: k in [0, 1], a positive learning rate, pgd radius overrides', () => {
    const p = problemsOf({ ...TINY_SPEC, optimizer: { name: 'ftp', k: 1.5, lr: 0 } });
    expect(p['optimizer.k']).toBe('must be >= 0 and <= 1, got 1.5');
    expect(p['optimizer.lr']).toBe('must be > 0, got 0');
    expect(
      problemsOf({ ...TINY_SPEC, optimizer: { name: 'pgd', radiusFor: ['fc1.*'] } })['optimizer.radiusFor[0]'],
    ).toMatch(/pattern=radius/);
    expect(problemsOf({ ...TINY_SPEC, optimizer: { name: 'tpgm', valFraction: 1 } })['optimizer.valFraction']).toBe(
      'must be > 0 and < 1, got 1',
    );
  });

  it('expands axes × seeds into runs, each labelled with its variant', () => {
    const { optimizer: _drop, ...rest } = TINY_SPEC;
    const spec = {
      ...rest,
      axes: { optimizer: [{ name: 'adamw' }, { name: 'ftp', k: 0.5 }], scenario: ['class-il', 'task-il'] },
    };
    const { configs } = tinyConfigs(spec, [0, 1]);
    expect(configs).toHaveLength(8);
    expect(configs.map((c) => `${c.variant.optimizer}/${c.variant.scenario}/${c.seed}`)).toEqual([
      'adamw/class-il/0',
      'adamw/class-il/1',
      'adamw/task-il/0',
      'adamw/task-il/1',
      'ftp/class-il/0',
      'ftp/class-il/1',
      'ftp/task-il/0',
      'ftp/task-il/1',
    ]);
    expect(new Set(configs.map((c) => c.runId)).size).toBe(8);
  });

  it('reports a problem inside an axis with the axis path', () => {
    const { optimizer: _drop, ...rest } = TINY_SPEC;
    const p = problemsOf({
      ...rest,
      axes: { optimizer: [{ name: 'adamw' }, { name: 'ftp', k: -1 }], colour: ['red'] },
    });
    expect(p['axes.optimizer[1].k']).toBe('must be >= 0 and <= 1, got -1');
    expect(p['axes.colour']).toMatch(/unknown axis/);
    expect(problemsOf({ ...TINY_SPEC, axes: { optimizer: [{ name: 'sgd' }] } })['axes.optimizer']).toMatch(
      /both as a field and as an axis/,
    );
    expect(problemsOf({ ...rest, axes: { optimizer: [{ name: 'sgd' }, { name: 'sgd', lr: 0.01 }] } })['axes']).toMatch(
      /same configuration/,
    );
  });

  it('refuses --steps or --epochs where a phase sets its own length (it would change the id, not the phase)', () => {
    const spec = {
      ...TINY_SPEC,
      phases: [
        { name: 'lp', steps: 30, train: ['head.*'] },
        { name: 'ft', optimizer: { name: 'adamw', lr: 0.01 } },
      ],
    };
    const registry = new PluginRegistry(builtinPlugins);
    const file = join(ROOT, 'test', 'virtual-experiment.ts');
    for (const flag of ['steps', 'epochs'] as const) {
      try {
        validateExperiment(spec, registry, file, { [flag]: 5 });
        throw new Error('expected validation to fail');
      } catch (e) {
        expect(e).toBeInstanceOf(ExperimentError);
        expect((e as ExperimentError).problems).toContainEqual({
          path: `--${flag}`,
          message: `phase 'lp' sets its own length, which --${flag} would not change; change it in the experiment`,
        });
      }
    }
    // A phase without a length of its own takes the override.
    const { configs } = {
      configs: validateExperiment({ ...spec, phases: [spec.phases[1]] }, registry, file, { steps: 5 }),
    };
    expect(configs[0].phases![0].steps).toBe(5);
  });
});
