// Which runs of a sweep train together (`anchorage run --together K`): runs
// whose models have the same layer graph, with the same batch size, the same
// number of steps in every task, and memory batches in every run or in none,
// in groups of up to K in the sweep's order. Everything else about a run —
// its seed, data set, class order, scenario, optimizer and its settings,
// phases, strategy and that strategy's settings — is its own. Runs that
// cannot share a step train alone, and the plan says why in one line per
// reason.
import type { RunConfig } from '../contracts/run-config.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { canonicalJson } from '../spec/validate.js';
import { resolveTokenAsync } from '../contracts/token.js';
import type { Strategy } from '../contracts/strategy.js';
import { DatasetCache, createRunContainer } from '../engine/container.js';
import { disposeRunContainer } from '../engine/dispose.js';
import { COMPONENT, PHASE_OPTIMIZERS, STRATEGIES } from '../engine/tokens.js';
import { phaseValidationFraction, planPhases } from '../engine/phases.js';
import { TaskExamples } from '../engine/task-examples.js';
import { whyNotTogether } from './group.js';

export interface TogetherPlan {
  /** Groups of two or more runs, in the sweep's order of their first runs. */
  groups: RunConfig[][];
  /** One line per reason some runs train alone. */
  notes: string[];
  /** Each examined run's planned steps per task (runs that could train together at all). */
  steps: Map<string, number[]>;
}

interface Candidate {
  config: RunConfig;
  /** Model graph, batch size, steps per task and whether it has memory batches: what runs in one group share. */
  key?: string;
  steps?: number[];
  why?: string;
}

async function examine(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets: DatasetCache,
): Promise<Candidate> {
  const container = createRunContainer(config, registry, backend, datasets);
  let strategies: Strategy[] = [];
  try {
    const model = await resolveTokenAsync(container, COMPONENT.model);
    strategies = await resolveTokenAsync(container, STRATEGIES);
    const why = whyNotTogether(config, model, strategies);
    if (why) return { config, why };
    const stream = await resolveTokenAsync(container, COMPONENT.stream);
    const examples = await container.getAsync(TaskExamples);
    const plans = planPhases(config, model, await resolveTokenAsync(container, PHASE_OPTIMIZERS));
    // As the run will select: a periodic phase (TPGM) holds out its validation examples first; each phase takes its
    // steps.
    const held = phaseValidationFraction(plans);
    const steps = stream.tasks.map((t) => {
      const n = examples.split(t, held).train.length;
      return plans.map((p) => p.steps(n)).reduce((a, b) => a + b, 0);
    });
    const graph = {
      layers: model.architecture!.layers,
      input: model.architecture!.inputShape,
      params: [...model.params].map(([n, v]) => [n, v.shape]),
    };
    // Runs with memory batches (replay, DER, ER-ACE) group apart from runs without: in one group the shorter runs'
    // rows would be padded to the longer ones', arithmetic that stacking does not save (twice a plain run's rows).
    const composes = strategies.some((s) => s.composeBatch);
    return { config, steps, key: canonicalJson({ graph, batch: config.train.batchSize, steps, composes }) };
  } catch (e) {
    // The run itself will meet (and report) the same problem.
    return { config, why: (e as Error).message };
  } finally {
    for (const s of strategies) s.dispose?.();
    await disposeRunContainer(container);
  }
}

export async function planTogether(
  runs: readonly RunConfig[],
  k: number,
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets = new DatasetCache(),
): Promise<TogetherPlan> {
  const candidates: Candidate[] = [];
  // Runs of one seed, data set and stream look at one copy of their tasks (27 Split MNIST runs: 3 copies, not 27).
  const shared = datasets.sharingStreams();
  for (const config of runs) candidates.push(await examine(config, registry, backend, shared));
  const byKey = new Map<string, RunConfig[]>();
  for (const c of candidates) if (c.key) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c.config]);
  const groups: RunConfig[][] = [];
  const alone = new Map<string, string[]>();
  const note = (why: string, runId: string) => alone.set(why, [...(alone.get(why) ?? []), runId]);
  for (const c of candidates) if (c.why) note(c.why, c.config.runId);
  for (const members of byKey.values()) {
    if (members.length === 1) {
      note('no other run has its model, batch size, steps per task and memory batches or none', members[0].runId);
      continue;
    }
    // As few groups as K allows, of sizes as even as possible (5 runs with K = 4: 3 and 2, not 4 and 1).
    const count = Math.ceil(members.length / k);
    for (let g = 0, at = 0; g < count; g++) {
      const size = Math.floor(members.length / count) + (g < members.length % count ? 1 : 0);
      groups.push(members.slice(at, at + size));
      at += size;
    }
  }
  const order = new Map(runs.map((r, i) => [r.runId, i]));
  groups.sort((a, b) => order.get(a[0].runId)! - order.get(b[0].runId)!);
  const notes = [...alone].map(
    ([why, ids]) =>
      `${ids.length === 1 ? `run ${ids[0]} trains` : `${ids.length} runs train`} alone: ` +
      `${why}${ids.length > 1 ? ` (${ids.join(', ')})` : ''}`,
  );
  return { groups, notes, steps: new Map(candidates.filter((c) => c.steps).map((c) => [c.config.runId, c.steps!])) };
}

/**
 * Shard `index` of `count`'s runs (`--workers N` or `--shard i/N`) when runs
 * train together: a group whose runs landed in different processes would
 * share no step, so whole groups (and runs alone) are dealt out, heaviest
 * first to the least loaded shard by planned steps; a group of four or more
 * is halved while that shortens the longest shard (two groups of 3 on two
 * cores beat one of 6 on one). Every shard computes the same deal from the
 * whole sweep, so the shards' union is the sweep whatever is already done.
 */
export function shardOfPlan(runs: readonly RunConfig[], plan: TogetherPlan, count: number, index: number): RunConfig[] {
  const known = [...plan.steps.values()].map((s) => s.reduce((a, b) => a + b, 0));
  const fallback = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const stepsOf = (r: RunConfig) => plan.steps.get(r.runId)?.reduce((a, b) => a + b, 0) ?? fallback;
  const cost = (unit: readonly RunConfig[]) => unit.reduce((a, r) => a + stepsOf(r), 0);
  const grouped = new Set(plan.groups.flat().map((r) => r.runId));
  const order = new Map(runs.map((r, i) => [r.runId, i]));
  const deal = (units: RunConfig[][]) => {
    const shards = Array.from({ length: count }, () => ({ load: 0, units: [] as RunConfig[][] }));
    const sorted = units.map((u, i) => ({ u, i, c: cost(u) })).sort((a, b) => b.c - a.c || a.i - b.i);
    for (const { u, c } of sorted) {
      const lightest = shards.reduce((best, s) => (s.load < best.load ? s : best));
      lightest.load += c;
      lightest.units.push(u);
    }
    return { shards, longest: Math.max(...shards.map((s) => s.load)) };
  };
  let units: RunConfig[][] = [
    ...plan.groups.map((g) => [...g]),
    ...runs.filter((r) => !grouped.has(r.runId)).map((r) => [r]),
  ];
  let best = deal(units);
  for (;;) {
    const heaviest = best.shards.find((s) => s.load === best.longest)!;
    const big = heaviest.units.filter((u) => u.length >= 4).sort((a, b) => cost(b) - cost(a))[0];
    if (!big) break;
    const half = Math.ceil(big.length / 2);
    const split = [...units.filter((u) => u !== big), big.slice(0, half), big.slice(half)];
    const trial = deal(split);
    if (trial.longest >= best.longest) break;
    units = split;
    best = trial;
  }
  return best.shards[index].units.flat().sort((a, b) => order.get(a.runId)! - order.get(b.runId)!);
}
