// ESLint (flat config): typescript-eslint with type information for server/, test/ and db/, plain
// JavaScript for the CLI shim, and a browser block for the remediation page's assets. Formatting is
// Prettier's (.prettierrc.json); eslint-config-prettier turns off the stylistic rules it owns, and
// max-len is turned back on after it for what Prettier cannot wrap (strings, comments).
// Numbers: lines ≤ 120; files ≤ 400 code lines in server/ (600 in test/); functions ≤ 80 code lines in
// server/ (comments and blank lines not counted). Tests have no function limit: a describe() is a
// function and a suite reads better whole.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Browser code: the remediation page's assets (JavaScript, or TypeScript under its own tsconfig). */
const BROWSER = 'server/**/assets/**/*.{js,mjs,ts}';

export default defineConfig([
  globalIgnores([
    'node_modules/',
    'data/',
    'certs/',
    'test/output/',
    'test/fixtures/',
    'db/migrations/',
    'server/osquery-tables/schema.json',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ignores: [BROWSER],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // the remediation page's own scripts run in the browser (under the page's strict CSP): no Node
    files: [BROWSER],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.{ts,js}'],
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },

  prettier,
  {
    files: ['**/*.{ts,js}'],
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    files: ['server/**/*.{ts,js}', 'db/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    files: ['test/**/*.{ts,js}'],
    rules: {
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
    },
  },
]);
