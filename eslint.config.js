// @ts-check
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import { builtinModules } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const projectRoot = dirname(fileURLToPath(import.meta.url));

/**
 * no-restricted-imports only compares import strings, and `../../main/x` means different things from different
 * folders; this rule resolves a relative import against the importing file and refuses forbidden folders.
 * @type {import('eslint').Rule.RuleModule}
 */
const noImportFromFolders = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid relative imports that land in the given source folders' },
    schema: [
      {
        type: 'object',
        properties: { folders: { type: 'array', items: { type: 'string' } }, reason: { type: 'string' } },
        required: ['folders', 'reason'],
        additionalProperties: false,
      },
    ],
    messages: { forbidden: "'{{specifier}}' is in {{folder}}: {{reason}}" },
  },
  create(context) {
    const { folders, reason } = context.options[0];
    const roots = folders.map((/** @type {string} */ folder) => ({ folder, path: resolve(projectRoot, folder) }));
    /** @param {any} node */
    const check = (node) => {
      const specifier = node.source?.type === 'Literal' ? node.source.value : undefined;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(dirname(context.filename), specifier);
      const hit = roots.find((root) => target === root.path || target.startsWith(root.path + sep));
      if (hit) context.report({ node: node.source, messageId: 'forbidden', data: { specifier, folder: hit.folder, reason } });
    };
    return { ImportDeclaration: check, ExportAllDeclaration: check, ExportNamedDeclaration: check, ImportExpression: check };
  },
};

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));
const electronImports = { paths: [{ name: 'electron', message: 'only src/main/index.ts, src/main/electron and src/preload may use Electron' }] };
/** @param {string} message */
const nodeBuiltinImports = (message) => ({
  paths: nodeBuiltins.map((name) => ({ name, message })),
  patterns: [{ group: ['node:*', ...nodeBuiltins.map((name) => `${name}/*`)], message }],
});
const browserSafe = 'the renderer runs sandboxed in a browser; reach the cluster through window.strata';

export default defineConfig(
  globalIgnores(['out/**', 'dist/**', 'node_modules/**', 'test-results/**', '.strata-demo/**', 'coverage/**']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    plugins: { strata: { rules: { 'no-import-from-folders': noImportFromFolders } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Electron is for the desktop shell only: services must stay loadable in the CLI, the agent and tests.
    files: ['**/*.{ts,tsx,js,mjs,cjs}'],
    ignores: ['src/main/index.ts', 'src/main/electron/**', 'src/preload/**'],
    rules: { 'no-restricted-imports': ['error', electronImports] },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronImports.paths, ...nodeBuiltinImports(browserSafe).paths, { name: 'mysql2', message: browserSafe }, { name: 'ioredis', message: browserSafe }],
          patterns: [...nodeBuiltinImports(browserSafe).patterns, { group: ['electron/*', 'mysql2/*', 'ioredis/*'], message: browserSafe }],
        },
      ],
      'strata/no-import-from-folders': ['error', { folders: ['src/main', 'src/preload', 'src/cli'], reason: browserSafe }],
    },
  },
  {
    files: ['src/preload/**'],
    languageOptions: { globals: globals.browser },
    rules: {
      'strata/no-import-from-folders': ['error', { folders: ['src/main', 'src/renderer', 'src/cli'], reason: 'a sandboxed preload can only use electron and src/shared' }],
    },
  },
  {
    files: ['src/shared/**'],
    languageOptions: { globals: globals['shared-node-browser'] },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronImports.paths, ...nodeBuiltinImports('src/shared is pure TypeScript used by the renderer too').paths],
          patterns: nodeBuiltinImports('src/shared is pure TypeScript used by the renderer too').patterns,
        },
      ],
      'strata/no-import-from-folders': [
        'error',
        { folders: ['src/main', 'src/preload', 'src/renderer', 'src/cli'], reason: 'src/shared is imported by every runtime and may depend on none of them' },
      ],
    },
  },
);
