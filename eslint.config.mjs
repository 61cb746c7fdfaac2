// Lint: typescript-eslint's recommended type-aware rules, plus the habits in STYLE.md that a
// linter can hold (no console in the service, no floating promises, no unused code), and the
// layout's boundaries (import cycles are madge's: `npm run check:cycles`, part of `npm run lint`):
// - libs/ is shared by the apps and other services: it never imports from apps/.
// - The service takes nothing from libs/auth-client, the library for other services (the code both
//   need lives in libs/jwt).
// - A feature folder of apps/auth/src is used through its top-level files: its module, services,
//   guards, decorators, entities and types. Its subfolders (dto/, strategies/, database's
//   migrations/) and its controllers are its own: no other folder imports them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One pattern per boundary, for `no-restricted-imports`. */
const ANOTHER_FEATURES_SUBFOLDER = {
  regex: '^(\\.\\./)+[\\w-]+/[\\w-]+/[^/]+$',
  message: "A feature's subfolders (dto/, strategies/, migrations/) are its own: import its top-level files.",
};
const ANOTHER_FEATURES_CONTROLLER = {
  regex: '^(\\.\\./)+[\\w-]+/[^/]+\\.controller$',
  message: "A controller is its feature's own: import the feature's module or services.",
};
const AUTH_CLIENT = { regex: '^@app/auth-client(/|$)', message: 'libs/auth-client is for other services; shared code belongs in libs/jwt.' };
const AN_APP = { regex: '(^|/)apps/', message: 'libs/ is shared by the apps: it never imports from apps/.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'jest.config.js', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['apps/auth/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ANOTHER_FEATURES_SUBFOLDER, ANOTHER_FEATURES_CONTROLLER, AUTH_CLIENT] }] },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [AN_APP] }] },
  },
  {
    // Tests, the benchmark and command-line entry points talk to a terminal.
    files: ['test/**/*.ts', '**/*.spec.ts', 'bench/**/*.ts', 'apps/auth/src/database/migration-cli.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
