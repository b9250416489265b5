import { spawn, spawnSync, type ChildProcess } from 'child_process';
import path from 'path';
import { loadConfig } from '../../../code/config';
import { createContainer } from '../../../code/functions/container';
import { createRegisterHandler } from '../../../code/functions/register';
import { createTransportHandler } from '../../../code/functions/transport';
import { createCleanupHandler } from '../../../code/functions/cleanup';
import { silentLogger } from '../../../code/chat/log';
import { connectProtocols } from '../../../code/chat/protocol';
import { startCos } from '../../helpers/local-cos';
import { startFakeFunctionUrls } from '../../helpers/fake-function-url';
import { connectClient, ofType } from '../../helpers/ws-client';
import { freePorts } from '../../helpers/ports';
import { request } from '../../helpers/raw-http';

/** The shipped artefact, dist/gateway/index.js, as an operator runs it: environment in, SIGTERM to stop. */

const BUNDLE = path.join(__dirname, '../../../dist/gateway/index.js');
const SECRET = 'bundle-test-gateway-secret-0123456789ab';

describe('the gateway bundle', () => {
  it('refuses to start without its configuration, naming the variable', () => {
    const result = spawnSync(process.execPath, [BUNDLE], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('GATEWAY_SECRET');
  });

  it('serves a chat through function URLs, and drains on SIGTERM: clients hear 1001, the process exits 0', async () => {
    const cos = await startCos();
    const [publicPort, pushPort] = await freePorts(2);
    const config = loadConfig({
      ...cos.env,
      PUSH_URL: `http://127.0.0.1:${pushPort}/push`,
      GATEWAY_SECRET: SECRET,
    });
    const container = createContainer(config, silentLogger);
    const fake = await startFakeFunctionUrls({
      register: createRegisterHandler(() => container),
      transport: createTransportHandler(() => container),
      cleanup: createCleanupHandler(() => container),
    });
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [BUNDLE], {
        env: {
          PATH: process.env.PATH,
          GATEWAY_SECRET: SECRET,
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(publicPort),
          GATEWAY_PUSH_PORT: String(pushPort),
          REGISTER_FUNCTION_URL: fake.url('register'),
          TRANSPORT_FUNCTION_URL: fake.url('transport'),
          CLEANUP_FUNCTION_URL: fake.url('cleanup'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => {
        const check = () => (output.includes('listening') ? resolve() : undefined);
        child!.stdout!.on('data', check);
        check();
      });
      expect((await request(`http://127.0.0.1:${publicPort}/healthz`)).status).toBe(200);
      expect((await request(`http://127.0.0.1:${pushPort}/metrics`)).body).toContain(
        'wschat_gateway_connections',
      );
      const url = `ws://127.0.0.1:${publicPort}/ws`;
      const a = await connectClient(url, connectProtocols({ nick: 'ana' }));
      const b = await connectClient(url, connectProtocols({ nick: 'ben' }));
      a.send('from the bundle');
      expect(await b.next(ofType('message'))).toMatchObject({ text: 'from the bundle' });
      child.kill('SIGTERM');
      expect(await a.closed).toBe(1001);
      expect(await b.closed).toBe(1001);
      expect(await exited).toBe(0);
      expect(cos.cos.keys('test-1250000000', 'app/room/')).toEqual([]);
    } finally {
      child?.kill('SIGKILL');
      await fake.close();
      await cos.close();
    }
  });
});
