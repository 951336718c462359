// TensorFlow's settings for `anchorage run`: one intra-op thread and oneDNN
// off when every run trains an MLP, every core and oneDNN on otherwise, and
// never over what the user set.
import { describe, expect, it } from 'vitest';
import { intraOpThreads, oneDnn } from '../../src/cli/run-threads.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

const mlp = tinyConfigs({ ...TINY_SPEC, model: { name: 'mlp', hidden: [8] } }).configs;
const cnn = tinyConfigs({
  ...TINY_SPEC,
  dataset: { name: 'synthetic', classes: 4, features: 12, imageShape: [2, 2, 3], trainPerClass: 10, testPerClass: 5 },
  model: { name: 'cnn', channels: [4], hidden: 8 },
}).configs;

describe('intra-op threads for a run', () => {
  it('one thread when every run trains an MLP', () => {
    expect(intraOpThreads(mlp, {})).toBe('1');
  });

  it('TensorFlow’s default (every core) when any run trains a convolutional model, or there are no runs', () => {
    expect(intraOpThreads(cnn, {})).toBeUndefined();
    expect(intraOpThreads([...mlp, ...cnn], {})).toBeUndefined();
    expect(intraOpThreads([], {})).toBeUndefined();
  });

  it('keeps the user’s TF_NUM_INTRAOP_THREADS', () => {
    expect(intraOpThreads(mlp, { TF_NUM_INTRAOP_THREADS: '2' })).toBeUndefined();
  });
});

describe('oneDNN for a run', () => {
  it('on when any run trains a model other than an MLP, off (left unset) for MLPs alone or no runs', () => {
    expect(oneDnn(cnn, {})).toBe('1');
    expect(oneDnn([...mlp, ...cnn], {})).toBe('1');
    expect(oneDnn(mlp, {})).toBeUndefined();
    expect(oneDnn([], {})).toBeUndefined();
  });

  it('keeps the user’s TF_ENABLE_ONEDNN_OPTS', () => {
    expect(oneDnn(cnn, { TF_ENABLE_ONEDNN_OPTS: '0' })).toBeUndefined();
  });
});
