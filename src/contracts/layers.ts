// The layer vocabulary of a model's layer graph (src/models/layer-graph.ts
// builds and runs it): what a model plugin describes and a Layers file holds.
// A list is a graph in topological order: each layer reads the layers named
// in `inputs` (default: the layer before it; 'input' is the model's input).

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid';

/** The model's input, as a layer name in `inputs`. */
export const INPUT = 'input';

export type LayerSpec = (
  | { type: 'dense'; name: string; units: number; activation: Activation; useBias: boolean }
  | {
      type: 'conv2d';
      name: string;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      /**
       * A number pads that many zeros on every side (PyTorch's `padding=1`); 'same' pads as TensorFlow does (more at
       * the end for even strides).
       */
      padding: 'same' | 'valid' | number;
      activation: Activation;
      useBias: boolean;
    }
  | { type: 'maxpool'; name: string; poolSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid' }
  | { type: 'flatten'; name: string }
  | { type: 'reshape'; name: string; targetShape: number[] }
  | { type: 'activation'; name: string; activation: Activation }
  | { type: 'dropout'; name: string; rate: number }
  /**
   * Batch normalisation over the last axis, PyTorch's semantics: in training
   * the batch's statistics normalise and the running ones move by `momentum`
   * (the variance unbiased); in evaluation the running ones normalise.
   */
  | { type: 'batchnorm'; name: string; momentum: number; epsilon: number }
  | { type: 'add'; name: string; activation?: Activation }
  | { type: 'globalavgpool'; name: string }
) & {
  /** Layers whose outputs this one reads, by name ('input': the model's input). Default: the layer before it. */
  inputs?: string[];
};
