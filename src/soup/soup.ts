// Model soups (Wortsman et al., ICML 2022): the weights of several runs
// fine-tuned from one pre-trained model, averaged. The uniform soup averages
// them all; the greedy soup takes the runs best-first on held-out validation
// data and keeps each only if the soup's validation accuracy does not drop.
// A soup is evaluated like a run (every eval set, the pre-trained model's row
// too) and written as one, beside its ingredients, so that `compare` and
// `report` show it as another method.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Subject } from 'rxjs';
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { RunConfig } from '../spec/spec.js';
import { canonicalJson } from '../spec/validate.js';
import { expandModelTemplate } from '../spec/model-path.js';
import { readLayersModel } from '../models/layers-file.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { tf } from '../tensor/tf.js';
import { hashString } from '../tensor/rng.js';
import { resolveTokenAsync } from '../contracts/token.js';
import { DatasetCache, createRunContainer } from '../engine/container.js';
import { Evaluator } from '../engine/evaluate.js';
import { TaskExamples } from '../engine/task-examples.js';
import { COMPONENT } from '../engine/tokens.js';
import { disposeRunContainer } from '../engine/dispose.js';
import type { RunEvent } from '../contracts/events.js';
import type { Model } from '../contracts/model.js';
import type { TaskStream } from '../contracts/stream.js';
import { writeRunResults } from '../results/arrow-writer.js';
import { readRunRecord } from '../results/run-dir.js';

/** A soup that cannot be made as asked: nothing is written. */
export class SoupError extends UserError {}

export type SoupKind = 'uniform' | 'greedy';

/** One fine-tuned run that goes into a soup. */
export interface Ingredient {
  runId: string;
  dir: string;
  config: RunConfig;
}

/** Recorded in a soup's run.json (`config.soup`). */
export interface SoupRecord {
  kind: SoupKind;
  /** Every candidate, best first on the soup's validation data. */
  candidates: { runId: string; validation: number | null }[];
  /** The runs whose weights the soup averages. */
  ingredients: string[];
  /** Examples per task the soup's validation data holds (held out by the first candidate and trained on by none). */
  validationExamples: number[];
  /** Seconds spent scoring every candidate on the validation data (shared by the group's soups). */
  rankSeconds: number;
  /** The soup's validation accuracy as each greedy candidate was tried (greedy only). */
  trace?: { runId: string; accuracy: number; kept: boolean }[];
}

type Weights = Map<string, { shape: number[]; values: Float32Array }>;

/** Where a run's final weights are: its experiment's `saveModel` under the results root. */
export function savedModelPath(config: RunConfig, root: string): string | undefined {
  if (!config.saveModel) return undefined;
  return resolve(root, expandModelTemplate(config));
}

/**
 * Checks that a group of runs can be souped: each saved its final weights,
 * all share the architecture and the pre-trained model (the same model
 * component, the same parameter names and shapes). Returns their weights.
 */
export function checkIngredients(
  label: string,
  runs: readonly Ingredient[],
  root: (run: Ingredient) => string,
  kinds: readonly SoupKind[],
): Weights[] {
  if (kinds.includes('greedy') && runs.some((r) => !r.config.select)) {
    const without = runs.filter((r) => !r.config.select).map((r) => r.runId);
    throw new SoupError(
      `${label}: a greedy soup ranks runs on held-out validation data; ${without.join(', ')} held none out ` +
        `(give the experiment \`select: { validation: 0.1 }\`)`,
    );
  }
  const unsaved = runs.filter((r) => !savedModelPath(r.config, root(r)));
  const missing = runs.filter((r) => {
    const path = savedModelPath(r.config, root(r));
    return path && !existsSync(resolve(path, 'model.json'));
  });
  if (missing.length)
    throw new SoupError(
      `${label}: the saved weights of ${missing.map((r) => r.runId).join(', ')} are missing ` +
        `(${resolve(savedModelPath(missing[0].config, root(missing[0]))!, 'model.json')} does not exist); train ` +
        `${missing.length > 1 ? 'them' : 'it'} again with --rerun, or leave ${missing.length > 1 ? 'them' : 'it'} out`,
    );
  if (unsaved.length) {
    throw new SoupError(
      `${label}: run${unsaved.length > 1 ? 's' : ''} ${unsaved.map((r) => r.runId).join(', ')} saved no final ` +
        `weights (give the experiment \`saveModel\`, e.g. '${runs[0].config.experiment}-models/{runId}', and run ` +
        `it again)`,
    );
  }
  const modelOf = (r: Ingredient) => canonicalJson(r.config.components.model);
  const first = modelOf(runs[0]);
  const other = runs.filter((r) => modelOf(r) !== first);
  if (other.length) {
    throw new SoupError(
      `${label}: runs ${other.map((r) => r.runId).join(', ')} start from another model ` +
        `(${describeModel(other[0].config)}) than ${runs[0].runId} (${describeModel(runs[0].config)}); a soup ` +
        `averages runs of one pre-trained model`,
    );
  }
  const weights = runs.map((r) => {
    const path = savedModelPath(r.config, root(r))!;
    try {
      return readLayersModel(path).weights;
    } catch (e) {
      throw new SoupError(
        `${label}: the saved weights of ${r.runId} in ${path} do not read back (${(e as Error).message})`,
      );
    }
  });
  const shapeOf = (w: Weights) => canonicalJson([...w].map(([n, v]) => [n, v.shape]).sort());
  const mismatched = runs.filter((_, i) => shapeOf(weights[i]) !== shapeOf(weights[0]));
  if (mismatched.length)
    throw new SoupError(
      `${label}: the saved weights of ${mismatched.map((r) => r.runId).join(', ')} have other names or shapes ` +
        `than ${runs[0].runId}'s`,
    );
  return weights;
}

/**
 * Checks that a group's runs started from the same weights — one pre-trained model (fresh parameters such as a
 * new head aside), or one seed's initialisation of the same architecture — by building each run's model as its run
 * did and comparing the parameters. Runs
 * trained from different random starts lie in different basins: their average is no soup, only a broken model.
 */
export async function checkCommonStart(
  label: string,
  runs: readonly Ingredient[],
  kitchen: Pick<Kitchen, 'registry' | 'backend' | 'datasets'>,
): Promise<void> {
  const digests: string[] = [];
  for (const r of runs) {
    const container = createRunContainer(r.config, kitchen.registry, kitchen.backend, kitchen.datasets);
    try {
      const model = await resolveTokenAsync(container, COMPONENT.model);
      const hash = createHash('sha256');
      // A fresh head (drawn from each run's seed) on one pre-trained model still makes a soup; a body drawn from
      // each run's seed does not.
      const loaded = [...model.params].filter(([name]) => !model.fresh?.has(name));
      for (const [name, v] of loaded.length ? loaded : [...model.params]) {
        const values = v.dataSync();
        hash.update(name).update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      }
      digests.push(hash.digest('hex'));
    } finally {
      await disposeRunContainer(container);
    }
  }
  const other = runs.filter((_, i) => digests[i] !== digests[0]);
  if (other.length)
    throw new SoupError(
      `${label}: runs ${other.map((r) => r.runId).join(', ')} started from other weights than ${runs[0].runId} ` +
        `(seeds ${[...new Set(runs.map((r) => r.config.seed))].join(', ')}, no common pre-trained model); a soup ` +
        'averages runs fine-tuned from one starting point (group by seed, or start every run from one pre-trained ' +
        'model)',
    );
}

function describeModel(config: RunConfig): string {
  const m = config.components.model;
  return `${m.name} ${canonicalJson(m.options)}`;
}

/** The element-wise mean of some runs' weights (summed in float64). */
export function averageWeights(members: readonly Weights[]): Weights {
  const out: Weights = new Map();
  for (const [name, w] of members[0]) {
    const sum = new Float64Array(w.values.length);
    for (const m of members) {
      const v = m.get(name)!.values;
      for (let i = 0; i < v.length; i++) sum[i] += v[i];
    }
    out.set(name, { shape: w.shape, values: Float32Array.from(sum, (s) => s / members.length) });
  }
  return out;
}

export interface SoupResult {
  runId: string;
  kind: SoupKind;
  dir: string;
  record: SoupRecord;
  seconds: number;
  /** Mean accuracy over tasks after the soup, per eval set. */
  accuracy: Record<string, number>;
}

/** A group of runs to make soups of: its label, the runs, and their weights (checkIngredients). */
export interface SoupGroup {
  readonly label: string;
  readonly runs: readonly Ingredient[];
  readonly weights: readonly Weights[];
}

/** Where soups are made: the plugins, the backend, the results root, and what the group's runs share. */
export interface Kitchen {
  readonly registry: PluginRegistry;
  readonly backend: BackendInfo;
  readonly root: string;
  readonly datasets?: DatasetCache;
  readonly selections?: SelectionCache;
}

type EvalEvent = Extract<RunEvent, { type: 'eval' }>;

/**
 * Makes the soups of one group of runs (uniform, and greedy when asked),
 * evaluates each like a run and writes it to `<root>/<experiment>/<soup id>/`.
 */
export async function cookSoups(group: SoupGroup, kinds: readonly SoupKind[], kitchen: Kitchen): Promise<SoupResult[]> {
  const { runs, weights } = group;
  const k = {
    ...kitchen,
    datasets: kitchen.datasets ?? new DatasetCache(),
    selections: kitchen.selections ?? new Map(),
  };
  const base = runs[0].config;
  // One copy of each data set for the group's runs (each would otherwise load its own).
  const container = createRunContainer(base, k.registry, k.backend, k.datasets);
  const before = tf.memory().numTensors;
  const bench = new SoupBench(
    group.label,
    await resolveTokenAsync(container, COMPONENT.model),
    await resolveTokenAsync(container, COMPONENT.stream),
    await container.getAsync(Evaluator),
  );
  const results: SoupResult[] = [];
  try {
    const validationExamples = base.select ? await holdOutUnseen(group, k, container, bench) : [];
    // The pre-trained model's row (trained task -1), as every run records it.
    const untrained = await bench.scoreAll(-1);
    const rankStarted = performance.now();
    const ranked: { index: number; validation: number | null }[] = [];
    for (const [index, w] of weights.entries()) {
      bench.assign(w);
      ranked.push({ index, validation: base.select ? await bench.validationAccuracy() : null });
    }
    if (base.select) ranked.sort((a, b) => b.validation! - a.validation! || a.index - b.index);
    const candidates = ranked.map((r) => ({ runId: runs[r.index].runId, validation: r.validation }));
    const rankSeconds = (performance.now() - rankStarted) / 1000;
    for (const kind of kinds) {
      const started = performance.now();
      const { members, trace } =
        kind === 'greedy'
          ? await greedyMembers(group, ranked, bench)
          : { members: ranked.map((r) => r.index), trace: undefined };
      bench.assign(averageWeights(members.map((i) => weights[i])));
      const trained = await bench.scoreAll(bench.stream.tasks.length - 1);
      const record: SoupRecord = {
        kind,
        candidates,
        ingredients: members.map((i) => runs[i].runId),
        validationExamples,
        rankSeconds,
        ...(trace ? { trace } : {}),
      };
      const runId = `soup-${kind}-${hashString(canonicalJson(runs.map((r) => r.runId).sort()))
        .toString(16)
        .padStart(8, '0')}`;
      const seconds = (performance.now() - started) / 1000;
      const dir = await writeSoup(
        { runId, base, record, evals: [...untrained, ...trained], model: bench.model.describe(), runs, seconds },
        k,
      );
      const accuracy = Object.fromEntries(
        bench.evaluator.setNames.map((set) => [
          set,
          mean(trained.filter((e) => e.evalSet === set).map((e) => e.accuracy)),
        ]),
      );
      results.push({ runId, kind, dir, record, seconds, accuracy });
    }
  } finally {
    bench.evaluator.dispose();
    bench.model.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) throw new Error(`internal error: a soup leaked ${leaked} tensors`);
  return results;
}

/** The model a soup's weights go into, and its evaluation. */
class SoupBench {
  constructor(
    private readonly label: string,
    readonly model: Model,
    readonly stream: TaskStream,
    readonly evaluator: Evaluator,
  ) {}

  /** Puts a soup's (or a run's) weights into the model. */
  assign(w: Weights): void {
    for (const [name, v] of [...this.model.params, ...(this.model.buffers ?? [])]) {
      const value = w.get(name);
      if (!value) throw new SoupError(`${this.label}: the saved weights have no ${name}`);
      tf.tidy(() => v.assign(tf.tensor(value.values, value.shape)));
    }
  }

  /** Every eval set of every task, as a run's evaluation after `trainedTask`. */
  async scoreAll(trainedTask: number): Promise<EvalEvent[]> {
    const rows: EvalEvent[] = [];
    for (const set of this.evaluator.setNames) {
      for (const t of this.stream.tasks) {
        const r = await this.evaluator.evaluate(t, set);
        rows.push({ type: 'eval', runId: '', trainedTask, evalTask: t.index, evalSet: set, ...r });
      }
    }
    return rows;
  }

  async validationAccuracy(): Promise<number> {
    let sum = 0;
    for (const t of this.stream.tasks) sum += (await this.evaluator.evaluate(t, 'validation')).accuracy;
    return sum / this.stream.tasks.length;
  }
}

/**
 * Validation data none of the ingredients trained on: the first run's
 * hold-out less every run's training examples. Returns each task's count.
 */
async function holdOutUnseen(
  group: SoupGroup,
  k: Required<Kitchen>,
  container: ReturnType<typeof createRunContainer>,
  bench: SoupBench,
): Promise<number[]> {
  const { runs, label } = group;
  const trainedOn: Int32Array[][] = [];
  for (const r of runs)
    trainedOn.push(await trainingSelections(r.config, k.registry, k.backend, k.datasets, k.selections));
  const examples = await container.getAsync(TaskExamples);
  const counts: number[] = [];
  for (const t of bench.stream.tasks) {
    const seen = new Set(trainedOn.flatMap((sel) => [...sel[t.index]]));
    const held = examples.split(t).heldOut.filter((i) => !seen.has(i));
    if (held.length === 0)
      throw new SoupError(
        `${label}: every example held out by ${runs[0].runId} on task ${t.name} was trained on by another ` +
          `run; there is no validation data to rank them`,
      );
    bench.evaluator.holdOut(t, held);
    counts.push(held.length);
  }
  return counts;
}

/** The greedy soup's members: runs best-first, each kept only if validation accuracy does not drop. */
async function greedyMembers(
  group: SoupGroup,
  ranked: { index: number; validation: number | null }[],
  bench: SoupBench,
): Promise<{ members: number[]; trace: NonNullable<SoupRecord['trace']> }> {
  const { runs, weights } = group;
  const trace: NonNullable<SoupRecord['trace']> = [];
  const members = [ranked[0].index];
  let best = ranked[0].validation!;
  trace.push({ runId: runs[ranked[0].index].runId, accuracy: best, kept: true });
  for (const r of ranked.slice(1)) {
    bench.assign(averageWeights([...members, r.index].map((i) => weights[i])));
    const accuracy = await bench.validationAccuracy();
    const kept = accuracy >= best;
    trace.push({ runId: runs[r.index].runId, accuracy, kept });
    if (kept) {
      members.push(r.index);
      best = accuracy;
    }
  }
  return { members, trace };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Training selections by what decides them: runs that differ only in optimizer settings draw the same examples. */
export type SelectionCache = Map<string, Int32Array[]>;

/** Each task's training examples as a run of `config` draws them (its sampler, less its hold-out). */
async function trainingSelections(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets: DatasetCache,
  cache: SelectionCache,
): Promise<Int32Array[]> {
  const { dataset, stream: streamSpec, sampler } = config.components;
  const key = canonicalJson({
    dataset,
    streamSpec,
    sampler,
    seed: config.seed,
    select: config.select,
    scenario: config.scenario,
    dir: config.experimentFile,
  });
  const known = cache.get(key);
  if (known) return known;
  const selected = await drawSelections(config, registry, backend, datasets);
  cache.set(key, selected);
  return selected;
}

async function drawSelections(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets: DatasetCache,
): Promise<Int32Array[]> {
  const container = createRunContainer(config, registry, backend, datasets);
  const examples = await container.getAsync(TaskExamples);
  const stream = await resolveTokenAsync(container, COMPONENT.stream);
  try {
    return stream.tasks.map((t) => examples.split(t).train);
  } finally {
    (await resolveTokenAsync(container, COMPONENT.model)).dispose();
  }
}

/** Writes the soup as a run: the same writer, events and tables as a trained run's. */
async function writeSoup(
  made: {
    runId: string;
    base: RunConfig;
    record: SoupRecord;
    evals: EvalEvent[];
    model: string;
    runs: readonly Ingredient[];
    seconds: number;
  },
  k: Pick<Kitchen, 'backend' | 'root'>,
): Promise<string> {
  const { runId, base, record: soup, evals, model, runs, seconds } = made;
  const { backend, root } = k;
  const config = { ...base, runId, configId: runId, saveModel: '', soup } as RunConfig & { soup: SoupRecord };
  const events = new Subject<RunEvent>();
  const written = writeRunResults(events, root);
  const tasks = readRunRecord(runs[0].dir)?.tasks as Extract<RunEvent, { type: 'run-start' }>['tasks'];
  events.next({
    type: 'run-start',
    runId,
    config,
    backend,
    model,
    optimizer:
      `${soup.kind} soup of ${soup.ingredients.length} run${soup.ingredients.length > 1 ? 's' : ''} ` +
      `(${soup.ingredients.join(', ')})`,
    strategy: 'soup',
    tasks,
    startedAt: new Date().toISOString(),
  });
  for (const e of evals) events.next({ ...e, runId });
  events.next({ type: 'run-end', runId, status: 'completed', seconds, steps: 0, stepsPerSecond: 0 });
  events.complete();
  return written;
}
