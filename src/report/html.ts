// The report page: one self-contained HTML file (inline SVG and CSS, no
// script, nothing fetched), readable offline and pasteable into a paper's
// supplement. A reader sees first what the experiment is, how many runs it
// holds, and the metrics table; then the figures, each with its caption.
import { METRICS } from './columns.js';
import { meanStd, pct } from './format.js';
import { groupLabel, type Figure } from './figures.js';
import type { Comparison } from './compare.js';

export interface RenderedFigure extends Figure {
  svg: string;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem;
  color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .8rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2rem 0; } figcaption { color: #555; font-size: .85rem; max-width: 800px; margin-top: .3rem; }
.problems li { font-family: "DejaVu Sans Mono", monospace; font-size: .8rem; }
.warn { background: #fff6e0; border-left: 3px solid #e0a000; padding: .4rem .8rem; }
dl { font-size: .8rem; color: #555; } dt { font-weight: bold; float: left; margin-right: .5rem; }
`;

/** Vega numbers its gradients and clip paths from 0 in every SVG: on one page they must not collide. */
function ownIds(svg: string, prefix: string): string {
  return svg.replace(/ id="([^"]+)"/g, ` id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`);
}

export function reportHtml(opts: {
  title: string;
  source: string;
  comparison: Comparison;
  figures: RenderedFigure[];
  warnings: string[];
  generatedAt: string;
}): string {
  const c = opts.comparison;
  const runs = c.groups.reduce((a, g) => a + g.runs.length, 0);
  const metricCell = (x: { mean: number; std: number }) => `<td class="num">${pct(x.mean)} ± ${pct(x.std)}</td>`;
  const metricName = (m: (typeof METRICS)[number]) =>
    escape(m.label === 'forgetting_best_minus_final' ? 'forgetting' : m.label);
  const row = (g: (typeof c.groups)[number], i: number) => {
    const keys = c.by.map((k) => `<td>${escape(g.key[k])}</td>`).join('');
    const seeds = g.runs.map((r) => r.seed).sort((a, b) => a - b);
    const metrics = METRICS.map((m) => metricCell(g.metrics[m.key])).join('');
    const runs = `<td class="num">${g.runs.length}</td><td>${seeds.join(' ')}</td>`;
    return `<tr><td>${i + 1}</td>${keys}${runs}${metrics}</tr>`;
  };
  const table = [
    '<table class="metrics"><thead><tr><th>#</th>',
    ...c.by.map((k) => `<th>${escape(k)}</th>`),
    '<th>runs</th><th>seeds</th>',
    ...METRICS.map((m) => `<th title="${escape(m.help)}">${metricName(m)}</th>`),
    '</tr></thead><tbody>',
    ...c.groups.map(row),
    '</tbody></table>',
  ].join('');
  const definitions = `<dl>${METRICS.map((m) => `<dt>${metricName(m)}</dt><dd>${escape(m.help)}</dd>`).join('')}</dl>`;
  const sections = opts.figures.map((f) => {
    const caption = `<figcaption>${escape(f.caption)}</figcaption>`;
    const body = `<h2>${escape(f.title)}</h2>${ownIds(f.svg, f.id)}${caption}`;
    return `<figure id="${f.id}" data-figure="${f.id}">${body}</figure>`;
  });
  const notAveraged = c.notComplete.map((r) => `<li>${escape(r.runId)}: ${escape(r.status)} — ${escape(r.dir)}</li>`);
  const problems = c.notComplete.length
    ? `<h2 id="not-averaged">Runs not averaged (${c.notComplete.length})</h2>` +
      '<p>Failed, diverged, interrupted, incomplete or unreadable runs: listed here, never averaged in.</p>' +
      `<ul class="problems">${notAveraged.join('')}</ul>`
    : '';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const meta = [
    `${plural(runs, 'completed run')} in ${plural(c.groups.length, 'group')} (by ${escape(c.by.join(', '))})`,
    c.notComplete.length ? `, ${c.notComplete.length} not averaged` : '',
    ` · from <code>${escape(opts.source)}</code> · ${escape(opts.generatedAt)}`,
  ].join('');
  const warnings = opts.warnings.map((w) => `<p class="warn">${escape(w)}</p>`).join('');
  const finalAcc = c.groups
    .map((g) => ({ label: groupLabel(c, g), acc: meanStd(g.runs.map((r) => r.summary!.acc)).mean }))
    .sort((a, b) => b.acc - a.acc)[0];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(opts.title)} — anchorage report</title><style>${STYLE}</style></head>
<body>
<h1>${escape(opts.title)}</h1>
<p class="meta">${meta}${finalAcc ? ` · highest ACC: ${escape(finalAcc.label)} (${pct(finalAcc.acc)} %)` : ''}</p>
${warnings}
<h2 id="summary">Summary</h2>
<p>Metrics in %, mean ± std over the runs (seeds) of each group.</p>
${table}
${definitions}
${sections.join('\n')}
${problems}
</body></html>
`;
}
