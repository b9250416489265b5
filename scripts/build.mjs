// Builds everything with esbuild:
//   dist/functions/<name>/index.js  one self-contained SCF bundle per function (node20, minified, SDKs inside:
//                                   SCF's runtime ships no libraries), handler `index.main_handler`;
//   dist/aws/<name>/index.js        the same chat as AWS Lambda bundles (node20), handler `index.handler`; the
//                                   serverless.yml at the root packages them as they are (docs/aws.md);
//   dist/gateway/index.js           the production WebSocket gateway (self-contained, `ws` inside; node18+);
//   dist/web/                       the static web client;
//   dist/tools/*.js                 the local stack, terminal client, benchmarks and helpers.
import { build } from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
export const FUNCTIONS = ['register', 'transport', 'cleanup', 'publish', 'sweep'];
export const AWS_FUNCTIONS = ['connect', 'default', 'disconnect', 'publish', 'sweep'];
const TOOLS = {
  start: 'scripts/local/start.ts',
  'chat-cli': 'scripts/cli/chat-cli.ts',
  bench: 'scripts/bench/bench.ts',
  load: 'scripts/load/load.ts',
  token: 'scripts/token.ts',
  deploy: 'scripts/deploy/deploy.ts',
};

// dist/web is not emptied: a deploy writes dist/web/config.json there, which a rebuild must keep.
rmSync(path.join(dist, 'functions'), { recursive: true, force: true });

// Libraries the COS SDK loads but never uses for the calls this project makes (each stub says why).
const stub = (name) => path.join(root, 'scripts/bundle-stubs', `${name}.js`);
const FUNCTION_ALIASES = {
  'http-signature': stub('http-signature'),
  'tough-cookie': stub('tough-cookie'),
  'mime-types': stub('mime-types'),
};

const started = Date.now();
await Promise.all([
  build({
    entryPoints: [path.join(root, 'code/gateway/main.ts')],
    outfile: path.join(dist, 'gateway', 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    // ws loads these optional native accelerators when present; the gateway runs without them.
    external: ['bufferutil', 'utf-8-validate'],
    legalComments: 'none',
    logLevel: 'warning',
  }),
  ...FUNCTIONS.map((name) =>
    build({
      entryPoints: [path.join(root, 'code/functions', `${name}.ts`)],
      outfile: path.join(dist, 'functions', name, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20', // SCF runtime Nodejs20.19 (docs/deploy.md says why that one)
      format: 'cjs',
      minify: true,
      alias: FUNCTION_ALIASES,
      legalComments: 'none',
      metafile: false,
      logLevel: 'warning',
    }),
  ),
  ...AWS_FUNCTIONS.map((name) =>
    build({
      entryPoints: [path.join(root, 'code/functions/aws', `${name}.ts`)],
      outfile: path.join(dist, 'aws', name, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20', // Lambda runtime nodejs20.x
      format: 'cjs',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
  ...Object.entries(TOOLS)
    .filter(([, entry]) => existsSync(path.join(root, entry)))
    .map(([name, entry]) =>
      build({
        entryPoints: [path.join(root, entry)],
        outfile: path.join(dist, 'tools', `${name}.js`),
        bundle: true,
        platform: 'node',
        target: 'node16',
        format: 'cjs',
        packages: 'external',
        sourcemap: 'inline',
        banner: name === 'chat-cli' ? { js: '#!/usr/bin/env node' } : undefined,
        logLevel: 'warning',
      }),
    ),
  existsSync(path.join(root, 'web/app.ts'))
    ? build({
        entryPoints: [path.join(root, 'web/app.ts')],
        outfile: path.join(dist, 'web', 'app.js'),
        bundle: true,
        platform: 'browser',
        target: 'es2019',
        minify: true,
        sourcemap: true,
        logLevel: 'warning',
      })
    : Promise.resolve(),
]);
mkdirSync(path.join(dist, 'web'), { recursive: true });
for (const file of ['index.html', 'style.css', 'favicon.svg']) {
  if (existsSync(path.join(root, 'web', file)))
    cpSync(path.join(root, 'web', file), path.join(dist, 'web', file));
}
chmodSync(path.join(dist, 'tools', 'chat-cli.js'), 0o755); // the package's `bin`
// stderr, so that `npm run -s token` and the CLI keep stdout for their own output.
if (!process.env.QUIET_BUILD) console.error(`built dist/ in ${Date.now() - started} ms`);
