// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Packages whose code must be pure and replayable: no clock, randomness, timers,
// process, files or sockets. Those enter through interfaces (STYLE.md section 1).
const deterministic = ['codec', 'crypto', 'state', 'chain', 'consensus', 'verifier']
const nondeterministicGlobals = [
  { name: 'Date', message: 'Deterministic core: take time from a Clock component or the block header.' },
  { name: 'setTimeout', message: 'Deterministic core: timers enter through an interface.' },
  { name: 'setInterval', message: 'Deterministic core: timers enter through an interface.' },
  { name: 'process', message: 'Deterministic core: configuration enters through Init objects.' },
]

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'packages/dashboard/build/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Use a seeded RNG.' },
      ],
    },
  },
  {
    files: deterministic.map((p) => `packages/${p}/src/**/*.ts`),
    rules: {
      'no-restricted-globals': ['error', ...nondeterministicGlobals],
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:net', 'node:dgram', 'node:http', 'node:child_process', 'node:timers', 'node:worker_threads'].map(
            (name) => ({ name, message: 'Deterministic core: I/O enters through interfaces.' }),
          ),
        },
      ],
    },
  },
)
