import type { ResolvedPhase } from './spec.js';

/**
 * How runs are labelled by their phases (a variant's label, compare's
 * `phases` column): the phases' names joined by '→', a default-named phase
 * shown as its optimizer and trainable set ("adamw[head.*]"); '' without phases.
 */
export function phasesLabel(phases: readonly ResolvedPhase[] | null): string {
  if (!phases) return '';
  return phases
    .map((p) => (/^phase\d+$/.test(p.name) ? `${p.optimizer.name}${p.train ? `[${p.train.join(',')}]` : ''}` : p.name))
    .join('→');
}
