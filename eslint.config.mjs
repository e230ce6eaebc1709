// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '.e2e/**', '.hearth-run/**', 'node_modules/**', 'sample-workspace/**', 'models/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The editor stays at the edge: pure logic and Node code never import `vscode` (style: layers by runtime).
    files: ['src/common/**/*.ts', 'src/node/**/*.ts', 'src/engineMain.ts', 'src/cli.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/common and src/node must not import vscode: put editor code in src/vscode.' }],
        patterns: [{ group: ['**/vscode/**', '../vscode', '../../vscode'], message: 'src/common and src/node must not import from src/vscode.' }],
      }],
    },
  },
  {
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/common is pure: no vscode.' }],
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net'], message: 'src/common is pure: Node APIs belong in src/node.' },
          { group: ['**/node/**', '**/vscode/**'], message: 'src/common imports nothing from src/node or src/vscode.' },
        ],
      }],
    },
  },
  {
    // Tests, scripts and benchmarks print their results.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'src/cli.ts'],
    rules: { 'no-console': 'off' },
  },
);
