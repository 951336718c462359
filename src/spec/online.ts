// The experiment's `online` section and `eval.every`/`eval.subset`: one pass
// over the stream with task boundaries given or hidden, and continual
// evaluation during training. Resolved here, beside validate.ts, which
// calls these in the order of the experiment's fields.
import type { Problem } from '../plugin/options.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { ResolvedComponent, ResolvedContinualEval, ResolvedOnline } from '../contracts/run-config.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function wholeNumber(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/** `online: { boundaries, transition }`; undefined when the experiment trains offline. */
export function resolveOnline(value: unknown, problems: Problem[]): ResolvedOnline | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push({
      path: 'online',
      message: `must be an object { boundaries?, transition? }, got ${JSON.stringify(value)}`,
    });
    return undefined;
  }
  for (const k of Object.keys(value))
    if (k !== 'boundaries' && k !== 'transition')
      problems.push({ path: `online.${k}`, message: 'unknown field; allowed: boundaries, transition' });
  const boundaries = value.boundaries ?? 'given';
  if (boundaries !== 'given' && boundaries !== 'hidden')
    problems.push({
      path: 'online.boundaries',
      message: `must be "given" | "hidden", got ${JSON.stringify(boundaries)}`,
    });
  const transition = value.transition ?? 0;
  if (!wholeNumber(transition, 0))
    problems.push({
      path: 'online.transition',
      message: `must be an integer >= 0 (training examples), got ${JSON.stringify(transition)}`,
    });
  else if (transition > 0 && boundaries === 'given')
    problems.push({
      path: 'online.transition',
      message: "a gradual transition has no boundary to tell strategies: it needs boundaries: 'hidden'",
    });
  return {
    boundaries: boundaries === 'hidden' ? 'hidden' : 'given',
    transition: wholeNumber(transition, 0) ? transition : 0,
  };
}

/** What one pass over the stream rules out: more epochs, a step count, phases. */
export function onlineTrainProblems(
  online: ResolvedOnline | undefined,
  train: { epochs: number; steps: number },
  phased: boolean,
): Problem[] {
  if (!online) return [];
  const problems: Problem[] = [];
  if (train.epochs !== 1)
    problems.push({ path: 'train.epochs', message: `online training sees each example once; got ${train.epochs}` });
  if (train.steps !== 0)
    problems.push({ path: 'train.steps', message: 'online training takes one pass over the stream, not a step count' });
  if (phased) problems.push({ path: 'phases', message: 'online training has no phases' });
  return problems;
}

/** `eval.every` and `eval.subset`; undefined without `every`. */
export function resolveContinualEval(
  every: unknown,
  subset: unknown,
  problems: Problem[],
): ResolvedContinualEval | undefined {
  if (subset !== undefined && !wholeNumber(subset, 1))
    problems.push({
      path: 'eval.subset',
      message: `must be an integer >= 1 (test examples per task), got ${JSON.stringify(subset)}`,
    });
  if (every === undefined) {
    if (subset !== undefined)
      problems.push({ path: 'eval.subset', message: 'is the subset continual evaluation scores; set eval.every too' });
    return undefined;
  }
  const count = (value: unknown, path: string): number | undefined => {
    if (wholeNumber(value, 1)) return value;
    problems.push({ path, message: `must be an integer >= 1, got ${JSON.stringify(value)}` });
    return undefined;
  };
  let resolved: Pick<ResolvedContinualEval, 'every' | 'unit'> | undefined;
  if (typeof every === 'number') {
    const n = count(every, 'eval.every');
    if (n) resolved = { every: n, unit: 'steps' };
  } else if (isObject(every) && Object.keys(every).length === 1 && ('steps' in every || 'examples' in every)) {
    const unit = 'steps' in every ? 'steps' : 'examples';
    const n = count(every[unit], `eval.every.${unit}`);
    if (n) resolved = { every: n, unit };
  } else
    problems.push({
      path: 'eval.every',
      message: `must be N (steps), { steps: N } or { examples: N }, got ${JSON.stringify(every)}`,
    });
  if (!resolved) return undefined;
  return { ...resolved, subset: wholeNumber(subset, 1) ? subset : 0 };
}

/** With boundaries hidden, every strategy must be one that needs none: the others are named, with the stream. */
export function taskFreeProblems(
  online: ResolvedOnline | undefined,
  strategies: readonly ResolvedComponent[],
  stream: ResolvedComponent | undefined,
  registry: PluginRegistry,
  paths: readonly string[],
): Problem[] {
  if (online?.boundaries !== 'hidden') return [];
  const free = registry.names('strategy').filter((n) => registry.get('strategy', n).taskFree !== undefined);
  return strategies.flatMap((s, i) => {
    const taskFree = registry.get('strategy', s.name).taskFree;
    const verdict = typeof taskFree === 'function' ? taskFree(s.options) : taskFree;
    if (verdict === true) return [];
    const how = typeof verdict === 'string' ? ` (${verdict})` : '';
    return [
      {
        path: paths[i],
        message:
          `strategy '${s.name}'${how} needs task boundaries, which stream '${stream?.name ?? '?'}' with ` +
          `online.boundaries 'hidden' does not give (strategies that need none: ${free.join(', ')})`,
      },
    ];
  });
}
