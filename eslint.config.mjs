import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/*
 * Layering (README.md, "Where things are"), enforced per folder of code/ with no-restricted-imports.
 * Relative imports are matched by how far they climb: a file `depth` folders below code/<dir> reaches the
 * top-level folder code/<other> as '../' × depth + '<other>'. Rules are written for depths 1 to 4.
 *
 *   code/chat      the core: its own files, code/util, the port interfaces (registry/registry, history/history,
 *                  push/push-client); types only from code/config. No SDK, no node http, no Tencent names.
 *   code/tencent   Tencent field names: types only from code/chat, code/util; nothing else of ours.
 *   code/aws       AWS field names (API Gateway WebSocket and HTTP API events): the same rules as code/tencent.
 *   code/registry, code/history, code/cos, code/push
 *                  ports and their implementations: SDKs, code/util, code/cos, code/config (the COS client
 *                  reads the role's keys through it); types only from code/chat; code/push also code/tencent
 *                  (the push body is Tencent's).
 *   code/functions the SCF entry points (and the Lambda ones in code/functions/aws): code/tencent, code/aws,
 *                  code/chat, code/config and the ports; never the gateway.
 *   code/gateway   our WebSocket gateway: code/tencent, code/aws and code/util only; never the core or the functions.
 *   code/client    the client session both faces share: pure TypeScript, no DOM and no Node; only
 *                  code/chat/protocol, message-id, names and base64url, code/util/json and backoff, and its own
 *                  files.
 *   web/           browser-safe shared code only: code/chat/protocol, names, message-id, token-claims, base64url,
 *                  code/util/backoff, and the shared client code in code/client/ (scripts/cli, the other face,
 *                  uses code/client too).
 */
const CODE_DIRS = [
  'chat',
  'tencent',
  'aws',
  'functions',
  'gateway',
  'registry',
  'history',
  'push',
  'cos',
  'util',
  'client',
];
const NETWORK_MODULES = ['http', 'https', 'net', 'ws', 'node:http', 'node:https', 'node:net'];
const SDKS = [
  'cos-nodejs-sdk-v5',
  'tencentcloud-sdk-nodejs-common',
  'axios',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-apigatewaymanagementapi',
];

const up = (depth) => `(\\.\\./){${depth}}`;

/**
 * The restrictions of files in code/<dir> (at every depth). `forbid`: top-level folders (or files, like
 * 'config') never imported; `typesOnly`: imported for types only; `only`: within a folder, the files allowed.
 */
function layer(dir, { forbid = [], typesOnly = [], only = {}, modules = [], why }) {
  return [1, 2, 3, 4].map((depth) => ({
    files: [`code/${dir}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: modules.map((name) => ({ name, message: `code/${dir} may not use ${name}: ${why}` })),
          patterns: [
            ...forbid.map((target) => ({
              regex: `^${up(depth)}${target}(/|$)`,
              message: `code/${dir} may not import code/${target}: ${why}`,
            })),
            ...typesOnly.map((target) => ({
              regex: `^${up(depth)}${target}(/|$)`,
              allowTypeImports: true,
              message: `code/${dir} may import only types from code/${target}: ${why}`,
            })),
            ...Object.entries(only).map(([target, files]) => ({
              regex: `^${up(depth)}${target}/(?!(${files.join('|')})$)`,
              message: `code/${dir} may import only ${files.map((f) => `code/${target}/${f}`).join(', ')} of code/${target}: ${why}`,
            })),
            {
              regex: `^${up(depth + 1)}(scripts|web|test)(/|$)`,
              message: `code/ never imports scripts/, web/ or test/`,
            },
          ],
        },
      ],
    },
  }));
}

const others = (...allowed) => CODE_DIRS.filter((dir) => !allowed.includes(dir));

const layering = [
  ...layer('chat', {
    forbid: ['tencent', 'aws', 'functions', 'gateway', 'cos'],
    typesOnly: ['config'],
    only: { registry: ['registry'], history: ['history'], push: ['push-client'] },
    modules: [...NETWORK_MODULES, ...SDKS],
    why: 'the core sees the world only through port interfaces (architecture.md)',
  }),
  ...layer('tencent', {
    forbid: [...others('chat', 'util', 'tencent'), 'config', 'config-aws'],
    typesOnly: ['chat'],
    modules: [...NETWORK_MODULES, ...SDKS],
    why: 'it maps Tencent events to core types and back, nothing more',
  }),
  ...layer('aws', {
    forbid: [...others('chat', 'util', 'aws'), 'config', 'config-aws'],
    typesOnly: ['chat'],
    modules: [...NETWORK_MODULES, ...SDKS],
    why: 'it maps AWS events to core types and back, nothing more',
  }),
  ...['registry', 'history', 'cos'].flatMap((dir) =>
    layer(dir, {
      forbid: ['functions', 'gateway', 'tencent', 'aws'],
      typesOnly: ['chat'],
      why: 'ports serve the core and never call it',
    }),
  ),
  ...layer('push', {
    forbid: ['functions', 'gateway'],
    typesOnly: ['chat'],
    why: 'ports serve the core and never call it',
  }),
  ...layer('functions', {
    forbid: ['gateway'],
    why: 'the functions are called by the gateway, never the reverse',
  }),
  ...layer('client', {
    forbid: [...others('chat', 'util', 'client'), 'config'],
    only: { chat: ['protocol', 'message-id', 'names', 'base64url'], util: ['json', 'backoff'] },
    modules: [
      ...NETWORK_MODULES,
      ...SDKS,
      'fs',
      'path',
      'os',
      'crypto',
      'node:fs',
      'node:path',
      'node:os',
      'node:crypto',
    ],
    why: 'both faces (browser and terminal) run it: nothing platform-specific',
  }),
  ...layer('gateway', {
    forbid: [...others('tencent', 'aws', 'util', 'gateway'), 'config', 'config-aws'],
    why: 'the gateway calls functions through the invoker, like the cloud did, never the core directly',
  }),
  {
    files: ['web/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\.\\./)+code/(?!chat/(protocol|names|message-id|token-claims|base64url)$|util/backoff$|client/)',
              message:
                'web/ may import only browser-safe shared code: code/chat/protocol, names, message-id, ' +
                'token-claims, base64url, code/util/backoff and code/client/',
            },
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.data-aws/', 'artifacts/', 'bench-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layering,
  prettier,
);
