import {
  corrupt,
  type Corruption,
  CORRUPTIONS,
  definePlugin,
  o,
  type OptionsInput,
  type Problem,
} from '../../src/plugin-api.js';
import { transformedStream } from './transformed.js';
import { featureValues, type FeatureArray } from '../../src/contracts/data.js';

const options = {
  shifts: o.strings({
    description: 'one task per shift, "<corruption>-<severity>" (e.g. "inversion-5"), or "none" for the data as is',
    default: ['none'],
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    shifted: OptionsInput<typeof options>;
  }
}

function parse(shift: string): { corruption: Corruption; severity: number } | null {
  if (shift === 'none') return null;
  const m = /^([a-z-]+)-([1-5])$/.exec(shift);
  if (!m || !(CORRUPTIONS as readonly string[]).includes(m[1])) throw new Error(`bad shift '${shift}'`);
  return { corruption: m[1] as Corruption, severity: Number(m[2]) };
}

/**
 * Tasks that are the whole data set under a distribution shift (the same
 * corruptions as the OOD evaluation sets): a target domain for fine-tuning
 * (e.g. inverted digits), or a sequence of domains.
 */
export default definePlugin({
  kind: 'stream',
  name: 'shifted',
  description: 'tasks that are the data set under a shift: "inversion-5", "gaussian-noise-3", "none", …',
  options,
  validate(opts) {
    const problems: Problem[] = [];
    opts.shifts.forEach((s, i) => {
      try {
        parse(s);
      } catch {
        problems.push({
          path: `shifts[${i}]`,
          message: `must be "none" or "<corruption>-<1..5>" with a corruption of ${CORRUPTIONS.join(', ')}, got "${s}"`,
        });
      }
    });
    if (opts.shifts.length === 0) problems.push({ path: 'shifts', message: 'needs at least one shift' });
    return problems;
  },
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    const transforms = opts.shifts.map((s) => {
      const spec = parse(s);
      return {
        label: s,
        transform: (f: FeatureArray) => (spec ? corrupt(featureValues(f), data.featureShape, spec) : f),
      };
    });
    return transformedStream(`shifted-${data.name}`, data, transforms);
  },
});
