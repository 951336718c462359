// The backends a user may ask for; a module of its own so that the CLI can
// list them without loading TensorFlow.js.
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
