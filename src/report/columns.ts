// What compare groups by, prints and how: plain data, loaded by the CLI's
// help without loading Arrow.
import type { ContinualSummary } from '../metrics/continual.js';

export const GROUP_COLUMNS = [
  'experiment',
  'dataset',
  'stream',
  'scenario',
  'model',
  'optimizer',
  'sampler',
  'labels',
  'strategy',
  'phases',
  'soup',
  'config',
] as const;
/**
 * Columns that set methods apart by themselves (LP-FT against fine-tuning, a soup against its runs): compare groups by
 * them whenever runs differ in them.
 */
export const METHOD_COLUMNS = ['phases', 'soup'] as const;
export type GroupColumn = (typeof GROUP_COLUMNS)[number];
export const FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export const METRICS: { key: keyof ContinualSummary; label: string; help: string }[] = [
  { key: 'acc', label: 'ACC', help: 'final average accuracy: mean_j R[T][j]' },
  {
    key: 'avgIncAcc',
    label: 'avg_inc_acc',
    help: 'average incremental accuracy: mean_k mean_{j<=k} R[k][j] (Rebuffi et al. 2017)',
  },
  { key: 'bwt', label: 'BWT', help: 'backward transfer: mean_{j<T} (R[T][j] - R[j][j]) (Lopez-Paz & Ranzato 2017)' },
  {
    key: 'fwt',
    label: 'FWT',
    help: 'forward transfer: mean_{j>=2} (R[j-1][j] - b_j), b = untrained model (Lopez-Paz & Ranzato 2017)',
  },
  {
    key: 'forgetting',
    label: 'forgetting_best_minus_final',
    help:
      'average forgetting: mean_{j<T} (max_{l<T} R[l][j] - R[T][j]) (Chaudhry et al. 2018; not Avalanche ' +
      'first-minus-last)',
  },
];
