// What one of the report's figures is (a titled Vega-Lite specification with
// its caption) and how a group of runs is labelled in figures and tables.
import type { Comparison, Group } from './compare.js';

export interface Figure {
  id: string;
  title: string;
  /** One sentence under the figure: what it shows and how it was computed. */
  caption: string;
  spec: Record<string, unknown>;
}

export function groupLabel(c: Comparison, g: Group): string {
  return c.by.map((k) => g.key[k]).join(' · ') || 'all runs';
}
