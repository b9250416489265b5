// Builds everything with esbuild:
//   dist/functions/<name>/index.js  one self-contained SCF bundle per function (node20, minified, SDKs inside:
//                                   SCF's runtime ships no libraries), handler `index.main_handler`;
//   dist/aws/<name>/index.js        the same chat as AWS Lambda bundles (node20), handler `index.handler`; the
//                                   serverless.yml at the root packages them as they are (docs/aws.md);
//   dist/gateway/index.js           the production WebSocket gateway (self-contained, `ws` inside; node18+);
//   dist/web/                       the static web client;
//   dist/tools/*.js                 the local stack, terminal client, benchmarks and helpers.
//
// `node scripts/build.mjs --only <tool>` builds one of dist/tools (what `npm run cli` and `npm run token` need), and
// not even that when the bundle is newer than every file it was built from (listed in <tool>.inputs.json).
// `node scripts/build.mjs --profile-transport <file>` writes an unminified transport bundle there, for
// `npm run bench -- --profile` (so that profiles name functions). Every esbuild setting lives in this file.
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
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
  'bench-runner': 'scripts/bench/runner.ts',
};

// cos-nodejs-sdk-v5 3.0.0 (the latest) ends every request in `getRetryInfo`, which reads `err.error.Code` inside a
// try/catch even when there is no error: one thrown and caught TypeError per successful request, 0.26 ms of CPU
// each in a profile of room formation (docs/benchmarks.md). The functions no longer carry the SDK (code/cos signs
// and sends COS requests itself); the deploy tool and the bench's SDK client still do. The same two reads, guarded,
// change nothing else: a missing error still leaves the codes undefined. The build stops if the SDK's text changes,
// so an upgrade is looked at rather than silently unpatched.
const COS_SDK_BASE = /cos-nodejs-sdk-v5[\\/]sdk[\\/]base\.js$/;
const COS_SDK_UNGUARDED = [
  ['let errorCode = err.error.Code;', 'let errorCode = err && err.error && err.error.Code;'],
  ['let errorMessage = err.error.Message;', 'let errorMessage = err && err.error && err.error.Message;'],
];
const guardCosSdkRetryInfo = {
  name: 'guard-cos-sdk-retry-info',
  setup(esbuild) {
    esbuild.onLoad({ filter: COS_SDK_BASE }, ({ path: file }) => {
      let source = readFileSync(file, 'utf8');
      for (const [from, to] of COS_SDK_UNGUARDED) {
        if (!source.includes(from))
          throw new Error(`${file}: "${from}" not found; review guardCosSdkRetryInfo`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

/** Tools load their npm packages from node_modules at run time, except the COS SDK, bundled to be guarded as above. */
const externalExceptCosSdk = {
  name: 'external-except-cos-sdk',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[^./]/ }, ({ path: request, importer }) =>
      request.startsWith('cos-nodejs-sdk-v5') || /[\\/]node_modules[\\/]cos-/.test(importer)
        ? undefined
        : { path: request, external: true },
    );
  },
};

function toolOptions(name, entry) {
  return {
    entryPoints: [path.join(root, entry)],
    outfile: path.join(dist, 'tools', `${name}.js`),
    bundle: true,
    platform: 'node',
    target: 'node16',
    format: 'cjs',
    plugins: [externalExceptCosSdk, guardCosSdkRetryInfo],
    sourcemap: 'inline',
    banner: name === 'chat-cli' ? { js: '#!/usr/bin/env node' } : undefined,
    logLevel: 'warning',
  };
}

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : undefined);

/** True when dist/tools/<name>.js exists and no file its last build read (or this script) changed since. */
function upToDate(name) {
  const out = mtime(path.join(dist, 'tools', `${name}.js`));
  const list = path.join(dist, 'tools', `${name}.inputs.json`);
  if (out === undefined || !existsSync(list)) return false;
  const inputs = [...JSON.parse(readFileSync(list, 'utf8')), 'scripts/build.mjs', 'package-lock.json'];
  return inputs.every((input) => {
    const changed = mtime(path.join(root, input));
    return changed !== undefined && changed <= out;
  });
}

async function buildOne(name) {
  const entry = TOOLS[name];
  if (!entry) {
    console.error(`build: no tool "${name}"; tools: ${Object.keys(TOOLS).join(', ')}`);
    process.exit(2);
  }
  if (upToDate(name)) return;
  const started = Date.now();
  await buildTool(name, entry);
  if (name === 'chat-cli') chmodSync(path.join(dist, 'tools', 'chat-cli.js'), 0o755);
  if (!process.env.QUIET_BUILD) console.error(`built dist/tools/${name}.js in ${Date.now() - started} ms`);
}

/** Builds a tool and records what it was built from, for upToDate(). */
async function buildTool(name, entry) {
  const result = await build({ ...toolOptions(name, entry), metafile: true });
  // Inputs are relative to the working directory esbuild ran in; store them relative to the root.
  const inputs = Object.keys(result.metafile.inputs).map((input) =>
    path.relative(root, path.resolve(process.cwd(), input)),
  );
  writeFileSync(path.join(dist, 'tools', `${name}.inputs.json`), JSON.stringify(inputs));
}

/** An SCF function's bundle: self-contained (SCF's runtime ships no libraries), node20, minified unless asked. */
function functionOptions(name, outfile, { minify = true } = {}) {
  return {
    entryPoints: [path.join(root, 'code/functions', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20', // SCF runtime Nodejs20.19 (docs/deploy.md says why that one)
    format: 'cjs',
    minify,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

// Loaded on demand: starting esbuild costs more than the up-to-date check it would follow.
const build = async (options) => (await import('esbuild')).build(options);

const only = process.argv.indexOf('--only');
if (only !== -1) {
  await buildOne(process.argv[only + 1]);
  process.exit(0);
}
const profileTransport = process.argv.indexOf('--profile-transport');
if (profileTransport !== -1) {
  await build(
    functionOptions('transport', path.resolve(process.argv[profileTransport + 1]), { minify: false }),
  );
  process.exit(0);
}

// dist/web is not emptied: a deploy writes dist/web/config.json there, which a rebuild must keep.
rmSync(path.join(dist, 'functions'), { recursive: true, force: true });

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
  ...FUNCTIONS.map((name) => build(functionOptions(name, path.join(dist, 'functions', name, 'index.js')))),
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
    .map(([name, entry]) => buildTool(name, entry)),
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
