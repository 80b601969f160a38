// ESLint flat config: typescript-eslint's recommended rules, and the import boundaries of
// STYLE.md §2 ("who may import what"), so they are checked by `make test`, not only by reading.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A `no-restricted-imports` rule from [regex, why] pairs. */
const forbid = (...rules) => ({
  'no-restricted-imports': ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }],
});

const EXPRESS = ['^express$', 'only src/server knows express'];
const VENDOR_SDKS = ['^(openai|@anthropic-ai/sdk)(/.*)?$', 'vendor SDKs live in their adapters'];
const SQL = ['^(pg|@electric-sql/.*|@supabase/.*)$', 'only src/store speaks SQL'];
const SRC = ['(^|/)src/', 'adapters never import src'];
const CONCRETE_ADAPTERS = ['(^|/)adapters/(?!spec/)', 'only the Adapter contract (adapters/spec) is imported outside adapters'];
const STORE_IMPLEMENTATIONS = ['(^|/)store/(sql-|pglite-|postgres-|supabase-|open-store|migrate)', 'the server sees the store through its interfaces'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'python-sidecar/**', '.test-results/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // `_ignored` destructuring drops a field on purpose; unused arguments of a callback signature are fine.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    ignores: ['src/config/**', 'src/main.ts', 'src/cli/sluice.ts'],
    rules: {
      // The environment is read in one place (src/config) and handed down as values.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment in src/config only' }],
    },
  },
  { files: ['adapters/spec/**/*.ts'], rules: forbid(['^(?!\\./)', 'adapters/spec imports nothing but itself']) },
  { files: ['adapters/shared/**/*.ts'], rules: forbid(['^\\.\\./(?!spec/)', 'adapters/shared imports only spec'], SRC, EXPRESS) },
  {
    files: ['adapters/*/**/*.ts'],
    ignores: ['adapters/spec/**', 'adapters/shared/**'],
    rules: forbid(SRC, EXPRESS, ['^\\.\\./(?!spec/|shared/)[^./]', 'a backend never imports another backend']),
  },
  {
    files: ['src/routing/**/*.ts'],
    rules: forbid(EXPRESS, VENDOR_SDKS, SQL, CONCRETE_ADAPTERS, ['(^|/)(store|server|pipeline)/', 'routing is pure: it does no I/O'], ['^node:(fs|http|https|net)', 'routing is pure: it does no I/O']),
  },
  { files: ['src/cache/**/*.ts', 'src/budget/**/*.ts', 'src/quality/**/*.ts'], rules: forbid(EXPRESS, CONCRETE_ADAPTERS, ['(^|/)server/', 'no HTTP types here']) },
  { files: ['src/pipeline/**/*.ts'], rules: forbid(EXPRESS, VENDOR_SDKS, SQL, CONCRETE_ADAPTERS, ['(^|/)server/', 'the pipeline knows no HTTP server']) },
  { files: ['src/server/**/*.ts'], rules: forbid(SQL, VENDOR_SDKS, STORE_IMPLEMENTATIONS, CONCRETE_ADAPTERS) },
  { files: ['src/store/**/*.ts'], rules: forbid(EXPRESS) },
  { files: ['src/config/**/*.ts'], rules: forbid(['^\\.\\./(?!config/)', 'config imports no other Sluice module']) },
  {
    files: ['test/**/*.ts', 'load-tests/**/*.ts', 'scripts/**/*.{js,mjs,ts}'],
    rules: {
      // Fakes and fixtures handle loosely typed wire payloads.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
  },
);
