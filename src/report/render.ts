// Figures to pictures without a browser: Vega-Lite compiles to Vega, Vega's
// headless view renders SVG (no canvas needed), and resvg — a renderer whose
// binary ships inside its npm package — rasterises the SVG to PNG offline.
import { createRequire } from 'node:module';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const require = createRequire(import.meta.url);

/** Every chart in one typeface, so that text measured here is the text drawn in a browser or a PNG. */
const CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, labelLimit: 240 },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 320 },
};

export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const { spec: compiled } = compile({ ...spec, config: CONFIG } as TopLevelSpec);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A PNG of an SVG at `scale` × its size (2: sharp on a high-density screen or in print). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
