import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Scripts and tests talk to a person on a terminal.
    files: ['scripts/**', 'test/**', 'services/*/src/cli.ts', 'services/kit/src/local/**', 'services/kit/src/testing/**'],
    rules: { 'no-console': 'off' },
  },
);
