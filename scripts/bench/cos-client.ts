import { fork, type ChildProcess } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import COS from 'cos-nodejs-sdk-v5';
import type { CosSettings } from '../../code/config';
import { parseListBucketResult } from '../../code/cos/cos-xml';
import { createObjectStore } from '../../code/cos/object-store';
import { createCosServer } from '../local/cos-server';
import { median, positiveIntEnv, table } from './stats';

/**
 * The "cosclient" section of `npm run bench`: the store's COS client (code/cos/cos-http.ts) against the SDK's
 * request path, on the calls a join makes (small PUTs and GETs) and a room listing, side by side in one run.
 *
 * The clients run in a child process (this same bundle, BENCH_COS_CLIENT=1) and the local COS server in this
 * one, so the CPU measured (the child's own, process.cpuUsage) is the client's alone. Each round runs every
 * (client, call) pair in turn, BENCH_COS_CALLS (2000) calls at 10 in flight; the first round is a warm-up and the
 * median of the other BENCH_COS_ROUNDS (4) is reported.
 */

const BUCKET = 'bench-1250000000';
const IN_FLIGHT = 10;
const LISTED = 100;

export interface CosClientRow {
  call: string;
  sdkUs: number;
  oursUs: number;
}

interface Job {
  endpoint: string;
  calls: number;
  rounds: number;
}

type Calls = Record<string, (i: number) => Promise<unknown>>;

export async function runCosClientBench(
  bundle: string,
  log: (line: string) => void,
): Promise<CosClientRow[]> {
  const cos = createCosServer({ buckets: [BUCKET], mountPath: '/_cos' });
  const server = http.createServer((req, res) => {
    if (!cos.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const job: Job = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/_cos`,
    calls: positiveIntEnv('BENCH_COS_CALLS', 2000),
    rounds: positiveIntEnv('BENCH_COS_ROUNDS', 4),
  };
  const child: ChildProcess = fork(bundle, [], {
    env: { ...process.env, BENCH_COS_CLIENT: '1' },
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    log(`  ${job.calls} calls per client and kind, ${job.rounds} rounds after a warm-up…`);
    return await new Promise<CosClientRow[]>((resolve, reject) => {
      child.once('message', (rows: CosClientRow[]) => resolve(rows));
      child.once('exit', (code) => reject(new Error(`the COS client bench exited (${code})`)));
      child.send(job);
    });
  } finally {
    child.kill();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function printCosClient(rows: CosClientRow[], log: (line: string) => void): void {
  log(`\nCOS client: CPU per call of the client process (SDK request path vs code/cos/cos-http.ts)`);
  log(
    table(
      ['call', 'SDK', 'ours', 'ratio'],
      rows.map((r) => [
        r.call,
        `${r.sdkUs.toFixed(0)} µs`,
        `${r.oursUs.toFixed(0)} µs`,
        `${(r.sdkUs / r.oursUs).toFixed(1)}×`,
      ]),
    ),
  );
}

/** CPU µs per call of `calls` calls at IN_FLIGHT at once. */
async function measure(call: (i: number) => Promise<unknown>, count: number): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await call(next++);
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

async function clientMain(job: Job): Promise<CosClientRow[]> {
  const settings: CosSettings = {
    bucket: BUCKET,
    region: 'ap-guangzhou',
    endpoint: job.endpoint,
    keyPrefix: 'bench/',
    secretId: 'local',
    secretKey: 'local',
    timeoutMs: 10_000,
  };
  const endpoint = new URL(job.endpoint);
  // The SDK as the store used it: path-style through Domain, keep-alive, no upload task list.
  const sdk = new COS({
    SecretId: 'local',
    SecretKey: 'local',
    Protocol: 'http:',
    Domain: `${endpoint.host}${endpoint.pathname}/{Bucket}`,
    AutoSwitchHost: false,
    KeepAlive: true,
  });
  const store = createObjectStore(settings);
  const base = { Bucket: BUCKET, Region: settings.region };
  const body = JSON.stringify({ nick: 'someone' });
  const listName = `list ${LISTED}`;
  await Promise.all(Array.from({ length: LISTED }, (_, i) => store.put(`room/r/${i}`, body)));
  const sdkCalls: Calls = {
    put: (i) =>
      sdk.putObject({ ...base, Key: `bench/s/${i}`, Body: body, SkipTask: true } as COS.PutObjectParams),
    get: (i) => sdk.getObject({ ...base, Key: `bench/s/${i % job.calls}` }),
    // The store read listings this way through the SDK: its raw body, through our reader.
    [listName]: () =>
      sdk
        .request({ ...base, Method: 'GET', Key: '', Query: { prefix: 'bench/room/r/' }, RawBody: true })
        .then((answer) => parseListBucketResult(String(answer.Body))),
  };
  const ourCalls: Calls = {
    put: (i) => store.put(`o/${i}`, body),
    get: (i) => store.get(`o/${i % job.calls}`),
    [listName]: () => store.list('room/r/'),
  };
  const kinds = Object.keys(sdkCalls);
  const samples = new Map<string, number[]>();
  for (let round = 0; round <= job.rounds; round += 1) {
    for (const kind of kinds) {
      for (const [who, calls] of [
        ['sdk', sdkCalls],
        ['ours', ourCalls],
      ] as const) {
        const us = await measure(calls[kind]!, job.calls);
        if (round === 0) continue; // warm-up: JIT, sockets
        const key = `${who} ${kind}`;
        samples.set(key, [...(samples.get(key) ?? []), us]);
      }
    }
  }
  return kinds.map((kind) => ({
    call: kind,
    sdkUs: median(samples.get(`sdk ${kind}`)!),
    oursUs: median(samples.get(`ours ${kind}`)!),
  }));
}

export function cosClientMain(): void {
  process.once('message', (job: Job) => {
    clientMain(job).then(
      (rows) => process.send!(rows, () => process.exit(0)),
      (error: unknown) => {
        console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        process.exit(1);
      },
    );
  });
}
