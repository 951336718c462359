import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { readFileSync } from 'node:fs';
import { DataType, Type, tableFromIPC, type Table } from 'apache-arrow';
import type { Examples } from '../../src/contracts/data.js';

const options = {
  train: o.string({
    description: 'Arrow IPC file (.arrow) of training examples, relative to the experiment file',
    nonEmpty: true,
  }),
  test: o.string({ description: 'Arrow IPC file of test examples', nonEmpty: true }),
  featureColumn: o.string({
    description: 'fixed-size-list column of numbers holding each example',
    default: 'features',
  }),
  labelColumn: o.string({ description: 'integer column of class labels', default: 'label' }),
  shape: o.numbers({
    description: 'shape of one example, e.g. [28, 28, 1] (default: the list size)',
    default: [],
    integer: true,
    min: 1,
  }),
  numClasses: o.integer({ description: 'number of classes (0: 1 + the largest label)', default: 0, min: 0 }),
  label: o.string({ description: 'what the results call this data set', default: 'arrow' }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    arrow: OptionsInput<typeof options>;
  }
}

function readExamples(
  path: string,
  featureColumn: string,
  labelColumn: string,
): { examples: Examples; listSize: number; maxLabel: number } {
  let table: Table;
  try {
    table = tableFromIPC(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: not a readable Arrow IPC file (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const columns = table.schema.fields.map((f) => f.name);
  const featureField = table.schema.fields.find((f) => f.name === featureColumn);
  const labelField = table.schema.fields.find((f) => f.name === labelColumn);
  if (!featureField) throw new Error(`${path}: no column '${featureColumn}'; columns: ${columns.join(', ')}`);
  if (!labelField) throw new Error(`${path}: no column '${labelColumn}'; columns: ${columns.join(', ')}`);
  if (!DataType.isFixedSizeList(featureField.type))
    throw new Error(`${path}: column '${featureColumn}' must be a fixed-size list, got ${featureField.type}`);
  if (!DataType.isInt(labelField.type))
    throw new Error(`${path}: column '${labelColumn}' must be an integer column, got ${labelField.type}`);
  const valueType = (featureField.type.children as { type: DataType }[])[0]?.type;
  if (!valueType || !(DataType.isFloat(valueType) || DataType.isInt(valueType)))
    throw new Error(
      `${path}: column '${featureColumn}' must hold numbers, ` +
        `got a list of ${valueType ? Type[valueType.typeId] : 'nothing'}`,
    );
  const listSize = featureField.type.listSize;
  const count = table.numRows;
  const features = new Float32Array(count * listSize);
  const labels = new Int32Array(count);
  // A fixed-size list's rows read as typed vectors; the labels as numbers (or bigints).
  const fcol = table.getChild(featureColumn)! as unknown as { get(i: number): { toArray(): ArrayLike<number> } | null };
  const lcol = table.getChild(labelColumn)! as unknown as { get(i: number): number | bigint | null };
  let maxLabel = -1;
  for (let i = 0; i < count; i++) {
    const row = fcol.get(i);
    const label = lcol.get(i);
    if (row === null || label === null)
      throw new Error(`${path}: row ${i} has a null ${row === null ? featureColumn : labelColumn}`);
    features.set(row.toArray(), i * listSize);
    const l = Number(label);
    if (l < 0) throw new Error(`${path}: label ${l} at row ${i} is negative`);
    if (l > 2 ** 31 - 1) throw new Error(`${path}: label ${label} at row ${i} is too large for a class index`);
    labels[i] = l;
    maxLabel = Math.max(maxLabel, l);
  }
  return { examples: { features, labels, count }, listSize, maxLabel };
}

/** Any data set stored as Arrow: a fixed-size-list feature column and an integer label column. */
export default definePlugin({
  kind: 'dataset',
  name: 'arrow',
  description: 'examples from Arrow IPC files (fixed-size-list features, integer labels)',
  options,
  create(opts, ctx) {
    const train = readExamples(ctx.resolvePath(opts.train), opts.featureColumn, opts.labelColumn);
    const test = readExamples(ctx.resolvePath(opts.test), opts.featureColumn, opts.labelColumn);
    if (train.listSize !== test.listSize)
      throw new Error(`train examples have ${train.listSize} features but test examples ${test.listSize}`);
    const shape = opts.shape.length ? opts.shape : [train.listSize];
    if (shape.reduce((a, b) => a * b, 1) !== train.listSize)
      throw new Error(`shape [${shape}] does not hold the ${train.listSize} features of each example`);
    const numClasses = opts.numClasses || Math.max(train.maxLabel, test.maxLabel) + 1;
    for (const [set, name] of [
      [train, 'train'],
      [test, 'test'],
    ] as const) {
      if (set.maxLabel >= numClasses)
        throw new Error(`${name}: label ${set.maxLabel} is out of range for ${numClasses} classes`);
    }
    return { name: opts.label, featureShape: shape, numClasses, train: train.examples, test: test.examples };
  },
});
