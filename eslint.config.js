// Lint for anchorage (`npm run lint`): typescript-eslint's type-aware rules,
// and limits on the size of functions and parameter lists that the code
// meets — a function that outgrows them is a function to split. Formatting
// is Prettier's (`npm run format:check`); lines stop at 120 characters.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const IGNORED = ['node_modules/', 'dist/', 'docs/api/', 'results/', 'test/.tmp/', 'test/fixtures/', '.anchorage/'];

export default tseslint.config(
  { ignores: [...IGNORED, 'src/tensor/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js', 'bin/*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      'max-params': ['error', 5],
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Shapes and lists in messages read as "[28,28,1]": that is their intended text.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowArray: true, allowNullish: true },
      ],
      // The plugin kinds' option interfaces start empty: each plugin file adds itself by declaration merging.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'always' }],
      // Strategy, reporter and model hooks are this-free functions (plugins return object literals); the engine
      // tests whether a hook exists before it calls it on its object, which this rule cannot tell from a detached call.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // A describe block holds its tests.
      'max-lines-per-function': 'off',
      // Tests read what runs wrote (run.json, tables) as untyped JSON and check its fields.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes of the plugin context and of tfjs's save handlers answer at once.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
