// Which parameters train, and tasks trained as phases (linear probing, then
// fine-tuning everything: LP-FT). Frozen parameters stay bit-identical and
// cost no optimizer state; each phase has its own optimizer, steps and
// trainable set; events and steps.arrow carry the phase.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { createRunContainer } from '../../src/engine/container.js';
import { planPhases } from '../../src/engine/phases.js';
import { COMPONENT, PHASE_OPTIMIZERS } from '../../src/engine/tokens.js';
import { resolveTokenAsync } from '../../src/contracts/token.js';
import { Optimizer } from '../../src/optim/optimizer.js';
import { AnchorStore } from '../../src/optim/anchors.js';
import { readLayersModel } from '../../src/models/layers-file.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { readRows, type StepRow } from '../../src/results/tables.js';
import { runCli, scratchDir, tinyConfigs, writeExperiment, regex } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const BASE = {
  name: 'phases',
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 40, testPerClass: 20, separation: 3 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [16] },
  optimizer: { name: 'adamw', lr: 0.03 },
  train: { steps: 12, batchSize: 16, logEvery: 2 },
};

type Step = Extract<RunEvent, { type: 'step' }>;
type PhaseStart = Extract<RunEvent, { type: 'phase-start' }>;

async function eventsOf(spec: object): Promise<RunEvent[]> {
  const { configs, registry } = tinyConfigs(spec, [3]);
  const before = tf.memory().numTensors;
  const events = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  return events;
}

/** The model's parameter values as the run starts them (the same seed builds the same model). */
async function initialValues(spec: object): Promise<Map<string, Float32Array>> {
  const { configs, registry } = tinyConfigs(spec, [3]);
  const model = await resolveTokenAsync(createRunContainer(configs[0], registry, backend), COMPONENT.model);
  const values = new Map([...model.params].map(([name, v]) => [name, v.dataSync() as Float32Array]));
  model.dispose();
  return values;
}

describe('trainable parameters', () => {
  it(
    'a linear probe (train.params) changes the head only: every other parameter ends bit-identical to its initial ' +
      'value',
    async () => {
      const dir = scratchDir('probe');
      const spec = { ...BASE, train: { ...BASE.train, params: ['head.*'] }, saveModel: 'model' };
      const out = join(dir, 'results');
      const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet', '--seeds', '3']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const initial = await initialValues(spec);
      const saved = readLayersModel(join(out, 'model'));
      const final = new Map([...saved.weights].map(([name, w]) => [name, w.values]));
      expect([...final.keys()].sort()).toEqual([...initial.keys()].sort());
      for (const [name, values] of initial) {
        if (name.startsWith('head.')) expect(final.get(name)).not.toEqual(values);
        else expect(Buffer.compare(Buffer.from(final.get(name)!.buffer), Buffer.from(values.buffer))).toBe(0);
      }
    },
  );

  it('frozen parameters cost no optimizer state: AdamW keeps moments for the trained tensors only', async () => {
    const { configs, registry } = tinyConfigs({ ...BASE, train: { ...BASE.train, params: ['head.*'] } });
    const container = createRunContainer(configs[0], registry, backend);
    const model = await resolveTokenAsync(container, COMPONENT.model);
    const [plan] = planPhases(configs[0], model, await resolveTokenAsync(container, PHASE_OPTIMIZERS));
    expect([...plan.trainable.keys()]).toEqual(['head.weight', 'head.bias']);
    const anchors = new AnchorStore();
    const optimizer = new Optimizer(plan.component, plan.trainable, anchors, model.rowAxis);
    const slots = Object.keys(optimizer.save().tensors);
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.every((k) => k.endsWith('/head.weight') || k.endsWith('/head.bias'))).toBe(true);
    optimizer.dispose();
    anchors.dispose();
    model.dispose();
  });
});

describe('trainable parameters with every strategy', () => {
  // Strategies see gradients of the trained parameters only (SI's path integral, A-GEM's and GEM's projections, DER's
  // logits).
  const STRATEGIES = [
    { name: 'ewc', lambda: 5, fisherSamples: 20 },
    { name: 'si', c: 0.5 },
    { name: 'mas', lambda: 0.5, samples: 20 },
    { name: 'lwf', alpha: 1 },
    { name: 'replay', size: 20 },
    { name: 'agem', size: 20 },
    { name: 'gem', size: 20 },
    { name: 'derpp', size: 20, alpha: 0.5, beta: 0.5 },
    { name: 'er-ace', size: 20 },
    { name: 'icarl', size: 20 },
  ];
  for (const strategy of STRATEGIES) {
    it(`${strategy.name}: trains with a frozen body and leaves it bit-identical`, async () => {
      const spec = { ...BASE, strategy, train: { ...BASE.train, steps: 6, params: ['head.*'] }, saveModel: 'model' };
      const initial = await initialValues(spec);
      const { configs, registry } = tinyConfigs(spec, [3]);
      const out = scratchDir('frozen');
      const events = await lastValueFrom(runEvents(configs[0], registry, backend, { out }).pipe(toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
      const final = readLayersModel(join(out, 'model')).weights;
      for (const [name, values] of initial) {
        if (name.startsWith('head.')) expect(final.get(name)!.values).not.toEqual(values);
        else
          expect(Buffer.compare(Buffer.from(final.get(name)!.values.buffer), Buffer.from(values.buffer)), name).toBe(0);
      }
    });
  }
});

describe('phases', () => {
  const LP_FT = {
    ...BASE,
    phases: [
      { name: 'lp', steps: 5, train: ['head.*'] },
      { name: 'ft', steps: 7, optimizer: { name: 'ftp', lr: 0.01 } },
    ],
  };

  it(
    'LP-FT: each task runs its phases in order, numbering steps on; the probe phase trains exactly as a ' +
      'probe-only run does',
    async () => {
      const events = await eventsOf(LP_FT);
      const starts = events.filter((e): e is PhaseStart => e.type === 'phase-start');
      expect(
        starts.map((e) => [e.task, e.phase, e.name, e.firstStep, e.steps, e.globalStep, e.trainable.length, e.frozen]),
      ).toEqual([
        [0, 0, 'lp', 1, 5, 0, 2, 2],
        [0, 1, 'ft', 6, 7, 5, 4, 0],
        [1, 0, 'lp', 1, 5, 12, 2, 2],
        [1, 1, 'ft', 6, 7, 17, 4, 0],
      ]);
      expect(starts[1].optimizer).toMatch(/^ftp\(/);
      expect(events.find((e) => e.type === 'task-start')).toMatchObject({ steps: 12 });
      const steps = events.filter((e): e is Step => e.type === 'step');
      // Every logged step says its phase (each phase's last step is logged too); global steps run on across phases and
      // tasks.
      expect(steps.map((e) => [e.task, e.step, e.phase, e.globalStep])).toEqual([
        [0, 2, 0, 2],
        [0, 4, 0, 4],
        [0, 5, 0, 5],
        [0, 6, 1, 6],
        [0, 8, 1, 8],
        [0, 10, 1, 10],
        [0, 12, 1, 12],
        [1, 2, 0, 14],
        [1, 4, 0, 16],
        [1, 5, 0, 17],
        [1, 6, 1, 18],
        [1, 8, 1, 20],
        [1, 10, 1, 22],
        [1, 12, 1, 24],
      ]);
      expect(events.at(-1)).toMatchObject({ steps: 24 });
      // Task 0's probe phase is the first 5 steps of a probe-only run, bit for bit.
      const probe = (await eventsOf({ ...BASE, train: { ...BASE.train, steps: 5, params: ['head.*'] } })).filter(
        (e): e is Step => e.type === 'step' && e.task === 0,
      );
      expect(steps.filter((e) => e.task === 0 && e.phase === 0).map((e) => e.loss)).toEqual(probe.map((e) => e.loss));
    },
  );

  it(
    'a phase without its own optimizer gets a fresh one of ' +
      "the experiment's: state is per phase, kept across tasks",
    async () => {
      const { configs, registry } = tinyConfigs({ ...BASE, phases: [{ steps: 3, train: ['head.*'] }, { steps: 4 }] });
      expect(configs[0].phases!.map((p) => [p.name, p.optimizer.name, p.steps, p.train])).toEqual([
        ['phase0', 'adamw', 3, ['head.*']],
        ['phase1', 'adamw', 4, null],
      ]);
      const events = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      expect(events.at(-1)).toMatchObject({ status: 'completed', steps: 14 });
    },
  );

  it('steps.arrow records the phase; the run and compare work from the CLI', () => {
    const dir = scratchDir('phases-cli');
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, LP_FT), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/phase lp: steps 1–5, adamw\(.*\); trains 2 tensors, 2 frozen/);
    expect(r.stdout).toMatch(/phase ft: steps 6–12, ftp\(/);
    const [run] = readdirSync(join(out, 'phases'));
    const rows = readRows<StepRow>(join(out, 'phases', run, 'steps.arrow'));
    expect(rows.map((row) => row.phase)).toEqual([0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1]);
    expect(runCli(['compare', join(out, 'phases')]).code).toBe(0);
    // The report's loss figure marks where each task's probe phase hands over to fine-tuning.
    const report = runCli(['report', join(out, 'phases')]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(out, 'phases', 'report.html'), 'utf8');
    expect(html).toMatch(/Dashed lines: where a phase of a task ends and the next begins/);
  });

  it(
    'patterns that match nothing, an empty trainable list and a phase without an optimizer to use stop the ' +
      'experiment before training',
    () => {
      const dir = scratchDir('phases-bad');
      const cases: [object, RegExp][] = [
        [
          { ...BASE, train: { ...BASE.train, params: ['heads.*'] } },
          regex(
            /train\.params: pattern 'heads\.\*' matches no parameter; /,
            /parameters: fc1\.weight, fc1\.bias, head\.weight, head\.bias/,
          ),
        ],
        [
          { ...BASE, phases: [{ steps: 2, train: ['head.*', 'fc9.*'] }] },
          /phases\[0\]\.train: pattern 'fc9\.\*' matches no parameter/,
        ],
        [
          { ...BASE, phases: [{ steps: 2, train: [] }] },
          /phases\[0\]\.train: must be a non-empty array of parameter-name patterns/,
        ],
        [
          { ...BASE, optimizer: undefined, phases: [{ steps: 2 }, { steps: 2, optimizer: { name: 'ftp' } }] },
          /phases\[0\]\.optimizer: required/,
        ],
        [{ ...BASE, phases: [{ steps: 2, epochs: 1 }] }, /phases\[0\]: give steps or epochs, not both/],
        [
          {
            ...BASE,
            phases: [
              { name: 'a', steps: 2 },
              { name: 'a', steps: 2 },
            ],
          },
          /phases\[1\]\.name: 'a' names two phases/,
        ],
        [{ ...BASE, phases: [{ steps: 2, optimizer: { name: 'ftp', lr: 'fast' } }] }, /phases\[0\]\.optimizer\.lr/],
      ];
      for (const [i, [spec, message]] of cases.entries()) {
        const out = join(dir, `r${i}`);
        const r = runCli(['run', writeExperiment(dir, spec, `e${i}.ts`), '--out', out]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(() => readdirSync(join(out, 'phases'))).toThrow();
      }
    },
  );
});
