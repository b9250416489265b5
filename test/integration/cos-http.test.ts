import COS from 'cos-nodejs-sdk-v5';
import http from 'http';
import type { AddressInfo } from 'net';
import type { CosSettings } from '../../code/config';
import { CosDeadlineError, createCosSend } from '../../code/cos/cos-http';
import { createObjectStore } from '../../code/cos/object-store';
import { BUCKET, startCos, type LocalCos } from '../helpers/local-cos';

/**
 * The store's COS client (code/cos/cos-http.ts) replaced the SDK's request path; these tests hold it to the SDK.
 * The same calls go through both to a recording server at the same instant: the requests must match, signature
 * included. Then both read each other's objects from the local COS server, and the retry rules are checked.
 */

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: string;
}

/** What COS reads of a request: everything but connection-level and informational headers. */
const COMPARED = [
  'authorization',
  'x-cos-security-token',
  'content-type',
  'content-length',
  'content-md5',
  'x-cos-forbid-overwrite',
  'host',
];

/** A plain HTTP server on a free port, standing in for COS; close it when done. */
async function serve(handler: http.RequestListener): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/_cos`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Records every request it gets, as COS reads it, and answers with `answer`. */
async function startRecorder(
  answer: (req: http.IncomingMessage) => { status: number; body: string; headers?: http.OutgoingHttpHeaders },
) {
  const seen: Recorded[] = [];
  const server = await serve((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const name of COMPARED) headers[name] = req.headers[name] as string | undefined;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers, body });
      const reply = answer(req);
      res.writeHead(reply.status, { 'Content-Type': 'application/xml', ...reply.headers });
      res.end(reply.body);
    });
  });
  return { seen, ...server };
}

const LISTING = '<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>';

function settingsFor(endpoint: string): CosSettings {
  return {
    bucket: BUCKET,
    region: 'ap-guangzhou',
    endpoint,
    keyPrefix: 'app/',
    secretId: 'AKIDconfigured',
    secretKey: 'configured-key',
    timeoutMs: 3000,
  };
}

const ROLE_KEYS = {
  TENCENTCLOUD_SECRETID: 'AKIDtemporary',
  TENCENTCLOUD_SECRETKEY: 'temporary-key',
  TENCENTCLOUD_SESSIONTOKEN: 'session-token',
};

/** The SDK as the store used it before: path-style through Domain, the role's keys signing each request. */
function sdkClient(settings: CosSettings): COS {
  const endpoint = new URL(settings.endpoint!);
  return new COS({
    Protocol: endpoint.protocol as 'http:',
    Domain: `${endpoint.host}${endpoint.pathname}/{Bucket}`,
    AutoSwitchHost: false,
    KeepAlive: true,
    getAuthorization(request, callback) {
      const Authorization = COS.getAuthorization({
        SecretId: ROLE_KEYS.TENCENTCLOUD_SECRETID,
        SecretKey: ROLE_KEYS.TENCENTCLOUD_SECRETKEY,
        Method: request.Method,
        Pathname: request.Pathname,
        Query: request.Query,
        Headers: request.Headers,
        Expires: 900,
      });
      callback({
        Authorization,
        SecurityToken: ROLE_KEYS.TENCENTCLOUD_SESSIONTOKEN,
      } as unknown as COS.Authorization);
    },
  });
}

// Keys with every character class the encoders treat differently.
const AWKWARD_KEY = "conn/a+b=c d!'()*é";

describe('the COS client against the SDK', () => {
  beforeEach(() => {
    // Only Date is frozen, so both sign at the same instant; timers and sockets run as usual.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
      now: new Date('2026-12-07T12:00:00Z'),
    });
  });
  afterEach(() => jest.useRealTimers());

  it('sends what the SDK sends for put, put-if-absent, get, list and multi-delete, signature included', async () => {
    const recorder = await startRecorder((req) => {
      if (req.method === 'GET' && (req.url ?? '').includes('?')) return { status: 200, body: LISTING };
      if (req.method === 'POST') return { status: 200, body: '<DeleteResult></DeleteResult>' };
      return { status: 200, body: req.method === 'GET' ? '{}' : '', headers: { ETag: '"x"' } };
    });
    const settings = settingsFor(recorder.endpoint);
    try {
      const store = createObjectStore(settings, createCosSend(settings, { ...ROLE_KEYS }));
      await store.put(AWKWARD_KEY, '{"nick":"é"}');
      await store.putNew('claim/q', '{}');
      await store.get(AWKWARD_KEY);
      await store.list('room/r/', { marker: 'room/r/a+b', maxKeys: 10 });
      await store.deleteMany(['a', 'b&c<d>']);
      const ours = recorder.seen.splice(0);

      const sdk = sdkClient(settings);
      const base = { Bucket: settings.bucket, Region: settings.region };
      const put = { ...base, ContentType: 'application/json', SkipTask: true };
      await sdk.putObject({ ...put, Key: `app/${AWKWARD_KEY}`, Body: '{"nick":"é"}' } as COS.PutObjectParams);
      await sdk.putObject({
        ...put,
        Key: 'app/claim/q',
        Body: '{}',
        Headers: { 'x-cos-forbid-overwrite': 'true' },
      } as COS.PutObjectParams);
      await sdk.getObject({ ...base, Key: `app/${AWKWARD_KEY}` });
      await sdk.request({
        ...base,
        Method: 'GET',
        Key: '',
        Query: { prefix: 'app/room/r/', 'max-keys': '10', marker: 'app/room/r/a+b' },
        RawBody: true,
      });
      await sdk.deleteMultipleObject({
        ...base,
        Objects: [{ Key: 'app/a' }, { Key: 'app/b&c<d>' }],
        Quiet: true,
      });
      const theirs = recorder.seen.splice(0);

      expect(ours).toHaveLength(5);
      expect(ours).toEqual(theirs);
    } finally {
      await recorder.close();
    }
  });
});

describe('the COS client with the local COS server', () => {
  let local: LocalCos;
  beforeAll(async () => {
    local = await startCos();
  });
  afterAll(() => local.close());

  it('reads what the SDK wrote, and the SDK reads what it wrote', async () => {
    const store = createObjectStore(local.settings);
    const sdk = new COS({
      SecretId: 'local',
      SecretKey: 'local',
      Protocol: 'http:',
      Domain: `${new URL(local.settings.endpoint!).host}/_cos/{Bucket}`,
      AutoSwitchHost: false,
    });
    const base = { Bucket: local.settings.bucket, Region: local.settings.region };
    await sdk.putObject({ ...base, Key: `app/${AWKWARD_KEY}`, Body: 'from the SDK' });
    expect(await store.get(AWKWARD_KEY)).toBe('from the SDK');

    await store.put('room/r/x+y=', 'from the store');
    const read = await sdk.getObject({ ...base, Key: 'app/room/r/x+y=' });
    expect(read.Body.toString()).toBe('from the store');
    const listed = await sdk.getBucket({ ...base, Prefix: 'app/room/r/' });
    expect(listed.Contents.map((o) => o.Key)).toEqual(['app/room/r/x+y=']);

    await store.deleteMany(['room/r/x+y=', AWKWARD_KEY]);
    expect(await store.get(AWKWARD_KEY)).toBeUndefined();
    expect((await sdk.getBucket({ ...base, Prefix: 'app/' })).Contents).toEqual([]);
  });
});

describe('the COS client retries as the SDK does', () => {
  it('retries a 5xx and a dropped connection, up to 4 tries, and not a 4xx', async () => {
    let calls = 0;
    const script = [503, 0, 200]; // 0: the connection is dropped before any answer
    const server = await serve((req, res) => {
      req.resume();
      const status = script[calls++] ?? 200;
      if (status === 0) return req.socket.destroy();
      res.writeHead(status).end();
    });
    const send = createCosSend(settingsFor(server.endpoint), {});
    try {
      expect((await send({ method: 'PUT', key: 'k', body: '{}' })).status).toBe(200);
      expect(calls).toBe(3);

      calls = 0;
      script.splice(0, 3, 500, 500, 500, 500);
      expect((await send({ method: 'PUT', key: 'k', body: '{}' })).status).toBe(500);
      expect(calls).toBe(4);

      calls = 0;
      script.splice(0, 4, 403);
      expect((await send({ method: 'GET', key: 'k' })).status).toBe(403);
      expect(calls).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('stops at its deadline: the attempt in flight is cut off and no retry follows', async () => {
    let requests = 0;
    let closed!: () => void;
    const cutOff = new Promise<void>((resolve) => (closed = resolve));
    const server = await serve((req) => {
      requests += 1;
      req.resume();
      req.on('close', closed); // never answered: only the client can end it
    });
    const send = createCosSend(settingsFor(server.endpoint), {});
    try {
      // Well inside the 3 s timeout: the deadline, not the timeout, ends the call.
      const sending = send({ method: 'PUT', key: 'k', body: '{}' }, Date.now() + 200);
      // The call settles (so its retry loop has ended) and the server sees the request go.
      await expect(sending).rejects.toThrow(CosDeadlineError);
      await cutOff;
      expect(requests).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('stops at its deadline when COS starts an answer and never finishes it', async () => {
    const server = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.write('<ListBucketResult>'); // and nothing more
    });
    const send = createCosSend(settingsFor(server.endpoint), {});
    try {
      await expect(send({ method: 'GET', key: 'k' }, Date.now() + 200)).rejects.toThrow(CosDeadlineError);
    } finally {
      await server.close();
    }
  });

  it('signs again with the server clock after RequestTimeTooSkewed', async () => {
    const serverDate = new Date(Date.now() + 3600_000);
    const signTimes: string[] = [];
    const server = await serve((req, res) => {
      req.resume();
      const signTime = /q-sign-time=(\d+);/.exec(String(req.headers.authorization))![1]!;
      signTimes.push(signTime);
      if (signTimes.length === 1) {
        res.writeHead(403, { Date: serverDate.toUTCString(), 'Content-Type': 'application/xml' });
        return res.end('<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message></Error>');
      }
      res.writeHead(200).end();
    });
    const send = createCosSend(settingsFor(server.endpoint), {});
    try {
      expect((await send({ method: 'PUT', key: 'k', body: '{}' })).status).toBe(200);
      expect(signTimes).toHaveLength(2);
      // Signed the second time by the server's clock: an hour ahead of ours, to the second or so.
      expect(Number(signTimes[1]) - Number(signTimes[0])).toBeGreaterThan(3590);
    } finally {
      await server.close();
    }
  });
});
