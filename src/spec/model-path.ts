// Where `saveModel` puts a run's model: a path template under the results
// root with fields such as {seed}, {model}, {optimizer}.
import { COMPONENT_KINDS } from '../plugin/kinds.js';
import type { Problem } from '../plugin/options.js';
import type { RunConfig } from './spec.js';

export const MODEL_TEMPLATE_FIELDS = ['seed', 'runId', 'experiment', 'scenario', ...COMPONENT_KINDS] as const;

function fieldsOf(config: RunConfig): Record<string, string> {
  const fields: Record<string, string> = {
    seed: String(config.seed),
    runId: config.runId,
    experiment: config.experiment,
    scenario: config.scenario,
  };
  for (const [kind, c] of Object.entries(config.components)) fields[kind] = c.name;
  return fields;
}

/** The template with every field filled in, relative to the results root. */
export function expandModelTemplate(config: RunConfig): string {
  const fields = fieldsOf(config);
  return config.saveModel.replace(/\{(\w+)\}/g, (_, key: string) => fields[key]);
}

/** Fields of the template that do not exist: a typo would otherwise become a literal folder name. */
export function unknownTemplateFields(template: string): string[] {
  return [...template.matchAll(/\{(\w*)\}/g)]
    .map((m) => m[1])
    .filter((k) => !(MODEL_TEMPLATE_FIELDS as readonly string[]).includes(k));
}

/**
 * Problems of the experiment's model paths as a whole: two runs that would
 * write one path (the second overwriting the first), and a path inside a run
 * folder (which is replaced, with everything in it, when the run completes).
 */
export function modelPathProblems(configs: readonly RunConfig[]): Problem[] {
  const problems: Problem[] = [];
  const byPath = new Map<string, string>();
  const runFolders = new Set(configs.map((c) => `${c.experiment}/${c.runId}`));
  for (const c of configs) {
    if (!c.saveModel) continue;
    const path = expandModelTemplate(c)
      .split(/[\\/]+/)
      .filter((p) => p && p !== '.')
      .join('/');
    const inside = [...runFolders].find((f) => path === f || path.startsWith(`${f}/`));
    if (inside) {
      problems.push({
        path: 'saveModel',
        message:
          `'${c.saveModel}' puts run ${c.runId}'s model inside run folder ${inside}, which is replaced when that ` +
          `run completes; save models beside the run folders`,
      });
      break;
    }
    const other = byPath.get(path);
    if (other) {
      problems.push({
        path: 'saveModel',
        message:
          `'${c.saveModel}' gives runs ${other} and ${c.runId} the same path ${path}; add a field that tells them ` +
          `apart, e.g. {seed}`,
      });
      break;
    }
    byPath.set(path, c.runId);
  }
  return problems;
}
