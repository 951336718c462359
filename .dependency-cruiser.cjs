// The layers of anchorage, checked in CI (`npm run lint:deps`): a change that
// breaks one fails the build with the import that broke it. Type-only imports
// count: a cycle of types is still a cycle for a reader.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules that import each other, directly or around a loop, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contracts-are-a-leaf',
      severity: 'error',
      comment:
        'src/contracts imports only other contracts and the tensor types: every layer depends on it, it on none.',
      from: { path: '^src/contracts/' },
      to: { path: '^(src|plugins)/', pathNot: '^src/(contracts/|tensor/(tf|rng)\\.ts$)' },
    },
    {
      name: 'plugins-use-the-public-entry',
      severity: 'error',
      comment:
        "A plugin imports only the plugin authors' entry (src/plugin-api.ts) and the contracts, as a user's plugin " +
        'would.',
      from: { path: '^plugins/', pathNot: '^plugins/index\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(plugin-api\\.ts$|contracts/)' },
    },
    {
      name: 'plugins-stand-alone',
      severity: 'error',
      comment:
        'One implementation per file: a plugin reaches another only through what it exports for that purpose ' +
        '(anchored-base, adamw, sgd, ftp).',
      from: { path: '^plugins/(datasets|streams|samplers|models|augmentations|reporters)/' },
      to: { path: '^plugins/', pathNot: '^plugins/$1/' },
    },
    {
      name: 'only-the-entry-and-the-cli-know-the-built-in-plugins',
      severity: 'error',
      comment:
        'The framework runs whatever plugins it is given: only the public entry (for their option types) and the CLI ' +
        'name the built-in set.',
      from: { path: '^src/', pathNot: '^src/(index\\.ts$|cli/)' },
      to: { path: '^plugins/' },
    },
    {
      name: 'the-engine-knows-no-group',
      severity: 'error',
      comment:
        'A run trains through the executor seam; training runs together (src/together) is an executor behind it, ' +
        'unknown to the engine.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(together|experiment|cli|report|soup)/' },
    },
    {
      name: 'lower-layers-never-reach-up',
      severity: 'error',
      comment:
        'Optimizers, models, memories, data, checkpoints, tensors, native kernels, strategies and metrics know ' +
        'nothing of runs, sweeps, results or the CLI.',
      from: { path: '^src/(optim|models|memory|data|checkpoint|tensor|native|strategies|metrics|plugin|spec)/' },
      to: { path: '^src/(engine|together|experiment|cli|report|soup|results)/' },
      // The backend loader's check of a native build (setup --check) selects the backend like any command.
    },
    {
      name: 'results-and-reports-read-no-engine',
      severity: 'error',
      comment:
        'Result tables, comparisons and reports read what runs wrote; they never reach into the engine that wrote ' +
        'it.',
      from: { path: '^src/(results|report|metrics)/' },
      to: { path: '^src/(engine|together|experiment|cli|soup)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|plugins)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
