import { spawn, type ChildProcess } from 'child_process';
import { once } from 'events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import path from 'path';
import { createInterface } from 'readline';
import { build } from 'esbuild';
import { createCosServer } from '../../scripts/local/cos-server';

/**
 * Issue #15, finding 4: the local COS server acknowledges only durable writes, cleans up after a crash, checks
 * authorization and size before reading a body, and validates listing parameters. Real HTTP throughout; the
 * durability test kills a real child process with SIGKILL.
 */

const BUCKET = 'hard-1250000000';
const AUTH = { Authorization: 'q-sign-algorithm=sha1&local' };
const MiB = 1024 * 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(
  port: number,
  options: {
    method: string;
    path: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string;
    agent?: http.Agent;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorCode = (answer: Answer) => /<Code>([^<]*)<\/Code>/.exec(answer.body)?.[1];

async function inProcess(maxObjectBytes?: number) {
  const cos = createCosServer({ buckets: [BUCKET], maxObjectBytes });
  const server = http.createServer((req, res) => {
    if (!cos.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    cos,
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends headers and then, if `chunked`, an endless chunked body that honours backpressure, until the server
 * answers (or `giveUpAfter` bytes, so a server that buffers everything fails the test instead of filling memory).
 * Resolves with the answer's status and code and how many body bytes were handed to the socket by then.
 */
function sendUnboundedBody(
  port: number,
  headers: http.OutgoingHttpHeaders,
  chunked: boolean,
  giveUpAfter: number,
): Promise<{
  status: number;
  code: string | undefined;
  connection: string | undefined;
  sent: number;
  ended: boolean;
}> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let ended = false;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/${BUCKET}/big`,
      headers,
      agent: false,
    });
    req.on('error', (error) => {
      // The server closes the connection after its answer; a write racing that close fails, which is fine.
      if (!answered) reject(error);
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          code: /<Code>([^<]*)<\/Code>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1],
          connection: res.headers.connection,
          sent,
          ended,
        });
        req.destroy();
      });
    });
    req.flushHeaders();
    if (!chunked) return;
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const pump = () => {
      while (!answered && !req.destroyed) {
        if (sent >= giveUpAfter) {
          ended = true;
          req.end();
          return;
        }
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

describe('listing parameters', () => {
  let local: Awaited<ReturnType<typeof inProcess>>;
  beforeAll(async () => {
    local = await inProcess();
    for (const key of ['a', 'b', 'c']) {
      expect(
        (await call(local.port, { method: 'PUT', path: `/${BUCKET}/${key}`, headers: AUTH, body: key }))
          .status,
      ).toBe(200);
    }
  });
  afterAll(() => local.close());

  it.each(['-5', '0', 'abc', '1.5', '', '+5', '1e3', ' 5', '99999999999'])(
    'regression: max-keys=%j is refused with a COS InvalidArgument error',
    async (value) => {
      const answer = await call(local.port, {
        method: 'GET',
        path: `/${BUCKET}/?max-keys=${encodeURIComponent(value)}`,
        headers: AUTH,
      });
      expect(answer.status).toBe(400);
      expect(errorCode(answer)).toBe('InvalidArgument');
      expect(answer.body).toMatch(/^<\?xml[^>]*>\n<Error><Code>InvalidArgument<\/Code><Message>max-keys/);
    },
  );

  it('a page smaller than the listing is truncated and names its next marker; more than 1000 means 1000', async () => {
    const page = await call(local.port, { method: 'GET', path: `/${BUCKET}/?max-keys=2`, headers: AUTH });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<IsTruncated>true</IsTruncated><NextMarker>b</NextMarker>');
    const all = await call(local.port, { method: 'GET', path: `/${BUCKET}/?max-keys=5000`, headers: AUTH });
    expect(all.body).toContain('<MaxKeys>1000</MaxKeys>');
    expect(all.body).toContain('<IsTruncated>false</IsTruncated>');
  });

  it.each([
    ['prefix=a&prefix=b', 400, 'InvalidArgument'],
    ['marker=a&marker=b', 400, 'InvalidArgument'],
    ['encoding-type=base64', 400, 'InvalidArgument'],
    ['encoding-type=url', 501, 'NotImplemented'],
  ])('?%s is answered %d %s', async (query, status, code) => {
    const answer = await call(local.port, { method: 'GET', path: `/${BUCKET}/?${query}`, headers: AUTH });
    expect(answer.status).toBe(status);
    expect(errorCode(answer)).toBe(code);
  });
});

describe('bodies: authorization and size before reading', () => {
  const CAP = 1 * MiB;
  let local: Awaited<ReturnType<typeof inProcess>>;
  beforeAll(async () => {
    local = await inProcess(CAP);
  });
  afterAll(() => local.close());

  it('regression: a PUT without Authorization declaring 1 GiB is refused before one byte is sent', async () => {
    const answer = await sendUnboundedBody(local.port, { 'Content-Length': String(1024 * MiB) }, false, 0);
    expect(answer).toMatchObject({ status: 403, code: 'AccessDenied', connection: 'close', sent: 0 });
    expect(local.cos.keys(BUCKET)).toEqual([]);
  });

  it('regression: a PUT declaring 1 GiB is refused by its Content-Length before one byte is sent', async () => {
    const answer = await sendUnboundedBody(
      local.port,
      { ...AUTH, 'Content-Length': String(1024 * MiB) },
      false,
      0,
    );
    expect(answer).toMatchObject({ status: 400, code: 'EntityTooLarge', connection: 'close', sent: 0 });
  });

  it('regression: an endless chunked PUT is cut off at the cap, while the body is still being sent', async () => {
    // The server answers although the body never ends, so it cannot be holding the body; what the client got into
    // the socket by then is the cap plus the kernel's socket buffers, not the body.
    const giveUpAfter = 256 * MiB;
    const answer = await sendUnboundedBody(
      local.port,
      { ...AUTH, 'Transfer-Encoding': 'chunked' },
      true,
      giveUpAfter,
    );
    expect(answer).toMatchObject({ status: 400, code: 'EntityTooLarge', connection: 'close', ended: false });
    expect(answer.sent).toBeLessThan(giveUpAfter);
    expect(local.cos.keys(BUCKET)).toEqual([]);
  });

  it('a chunked or declared body up to the cap is stored, and the connection stays open', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = 'x'.repeat(CAP);
    const put = await call(local.port, { method: 'PUT', path: `/${BUCKET}/ok`, headers: AUTH, body, agent });
    expect(put.status).toBe(200);
    expect(put.headers.connection).not.toBe('close');
    const chunked = await call(local.port, {
      method: 'PUT',
      path: `/${BUCKET}/ok2`,
      headers: { ...AUTH, 'Transfer-Encoding': 'chunked' },
      body: 'small',
      agent,
    });
    expect(chunked.status).toBe(200);
    const got = await call(local.port, { method: 'GET', path: `/${BUCKET}/ok`, headers: AUTH, agent });
    expect(got.body).toBe(body);
    expect(got.headers.connection).not.toBe('close');
    agent.destroy();
  });

  it('a multi-delete body is capped too', async () => {
    const multi = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: local.port,
          method: 'POST',
          path: `/${BUCKET}/?delete`,
          headers: { ...AUTH, 'Content-Length': String(64 * MiB) },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(multi).toBe(400);
  });
});

describe('durability across kill -9', () => {
  let work: string;
  let bundle: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'cos-kill-'));
    bundle = path.join(work, 'cos-child.js');
    await build({
      entryPoints: [path.join(__dirname, '../helpers/cos-child.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent',
    });
  });
  afterAll(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  async function startChild(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
    const child = spawn(process.execPath, [bundle, dataDir, BUCKET], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`cos child exited with ${String(code)} before listening`);
      }),
    ])) as [string];
    lines.close();
    return { child, port: (JSON.parse(line) as { port: number }).port };
  }

  it('regression: every acknowledged write survives SIGKILL, and temporaries are cleaned at start', async () => {
    const dataDir = path.join(work, 'data');
    const first = await startChild(dataDir);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const put = (key: string, body: string) =>
      call(first.port, { method: 'PUT', path: `/${BUCKET}/${key}`, headers: AUTH, body, agent });

    // Many keys at once, then one key rewritten in sequence (the reported case: 300 writes to one key).
    const keys = Array.from({ length: 200 }, (_, i) => `k/${i}`);
    const puts = await Promise.all(keys.map((key) => put(key, `value of ${key}`)));
    expect(puts.map((a) => a.status)).toEqual(keys.map(() => 200));
    for (let version = 1; version <= 300; version += 1) {
      expect((await put('same', `v${version}`)).status).toBe(200);
    }
    const deleted = await call(first.port, {
      method: 'DELETE',
      path: `/${BUCKET}/k/0`,
      headers: AUTH,
      agent,
    });
    expect(deleted.status).toBe(204);
    // No flush, no grace: the process dies right after the last acknowledgement.
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    agent.destroy();

    // What a crash between write and rename leaves behind.
    const bucketDir = path.join(dataDir, BUCKET);
    writeFileSync(path.join(bucketDir, 'deadbeef.json.0a0b0c0d.tmp'), '{"key":"torn');
    const second = await startChild(dataDir);
    const get = (key: string) =>
      call(second.port, { method: 'GET', path: `/${BUCKET}/${key}`, headers: AUTH });
    expect((await get('same')).body).toBe('v300');
    expect((await get('k/0')).status).toBe(404);
    const bodies = await Promise.all(keys.slice(1).map((key) => get(key)));
    expect(bodies.map((a) => a.body)).toEqual(keys.slice(1).map((key) => `value of ${key}`));
    expect(readdirSync(bucketDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    second.child.kill('SIGKILL');
    await once(second.child, 'exit');
  }, 60_000);
});
