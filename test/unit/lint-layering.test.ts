import { execFile } from 'child_process';
import path from 'path';

/** The layering rules of eslint.config.mjs: a forbidden import fails `npm run lint`, an allowed one passes. */

const root = path.resolve(__dirname, '../..');

interface LintMessage {
  ruleId: string | null;
  /** 2 is an error: it fails `npm run lint`. */
  severity: number;
  line: number;
  message: string;
}

function lint(snippets: Array<{ filePath: string; code: string }>): Promise<LintMessage[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(root, 'test/helpers/lint-snippets.mjs')],
      { cwd: root },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as LintMessage[][]);
      },
    );
    child.stdin?.end(JSON.stringify(snippets));
  });
}

const RULE = '@typescript-eslint/no-restricted-imports';

/** [file, import] pairs that must fail, each with a piece of the message it must fail with. */
const forbidden: Array<[string, string, string]> = [
  ['code/aws/x.ts', "import { envelope } from '../chat/protocol';", 'only types from code/chat'],
  [
    'code/aws/x.ts',
    "import { S3Client } from '@aws-sdk/client-s3';",
    'code/aws may not use @aws-sdk/client-s3',
  ],
  ['code/aws/x.ts', "import { parseFrameEvent } from '../tencent/gateway';", 'may not import code/tencent'],
  ['code/chat/x.ts', "import { toCoreId } from '../aws/events';", 'may not import code/aws'],
  [
    'code/chat/x.ts',
    "import { S3Client } from '@aws-sdk/client-s3';",
    'code/chat may not use @aws-sdk/client-s3',
  ],
  ['code/registry/x.ts', "import { toCoreId } from '../aws/events';", 'may not import code/aws'],
  [
    'code/functions/aws/x.ts',
    "import { startGateway } from '../../gateway/gateway';",
    'may not import code/gateway',
  ],
  ['code/chat/x.ts', "import COS from 'cos-nodejs-sdk-v5';", 'code/chat may not use cos-nodejs-sdk-v5'],
  ['code/chat/x.ts', "import http from 'http';", 'code/chat may not use http'],
  ['code/chat/x.ts', "import { parseFrameEvent } from '../tencent/gateway';", 'may not import code/tencent'],
  [
    'code/chat/x.ts',
    "import { main_handler } from '../functions/register';",
    'may not import code/functions',
  ],
  ['code/chat/x.ts', "import { start } from '../gateway/main';", 'may not import code/gateway'],
  ['code/chat/x.ts', "import { createObjectStore } from '../cos/object-store';", 'may not import code/cos'],
  [
    'code/chat/x.ts',
    "import { createCosRegistry } from '../registry/cos-registry';",
    'only code/registry/registry',
  ],
  ['code/chat/x.ts', "import { loadConfig } from '../config';", 'only types from code/config'],
  ['code/tencent/x.ts', "import { envelope } from '../chat/protocol';", 'only types from code/chat'],
  [
    'code/tencent/x.ts',
    "import { createObjectStore } from '../cos/object-store';",
    'may not import code/cos',
  ],
  [
    'code/registry/x.ts',
    "import { createChatService } from '../chat/chat-service';",
    'only types from code/chat',
  ],
  ['code/functions/x.ts', "import { start } from '../gateway/main';", 'may not import code/gateway'],
  ['code/gateway/x.ts', "import { envelope } from '../chat/protocol';", 'may not import code/chat'],
  [
    'code/gateway/sub/x.ts',
    "import { main_handler } from '../../functions/x';",
    'may not import code/functions',
  ],
  ['web/x.ts', "import { checkText } from '../code/chat/rules';", 'web/ may import only'],
];

const allowed: Array<[string, string]> = [
  ['code/aws/x.ts', "import type { ConnectRequest } from '../chat/requests';"],
  ['code/gateway/x.ts', "import { parseConnectionsCall } from '../aws/events';"],
  ['code/functions/aws/x.ts', "import { parseFrameEvent } from '../../aws/events';"],
  ['code/cos/x.ts', "import { S3Client } from '@aws-sdk/client-s3';"],
  ['code/chat/x.ts', "import type { ConnectionRegistry } from '../registry/registry';"],
  ['code/chat/x.ts', "import type { ChatLimits } from '../config';"],
  ['code/chat/x.ts', "import { mapBounded } from '../util/map-bounded';"],
  ['code/chat/x.ts', "import { envelope } from './protocol';"],
  ['code/tencent/x.ts', "import type { ConnectRequest } from '../chat/requests';"],
  ['code/push/x.ts', "import { pushDataBody } from '../tencent/gateway';"],
  ['code/functions/x.ts', "import { parseFrameEvent } from '../tencent/gateway';"],
  ['code/gateway/x.ts', "import { buildFrameEvent } from '../tencent/gateway';"],
  ['code/gateway/sub/x.ts', "import { settings } from '../config';"],
  ['web/x.ts', "import { connectProtocols } from '../code/chat/protocol';"],
];

describe('layering, enforced by lint', () => {
  /** What the rule said about each snippet, forbidden ones first (one ESLint process for all). */
  let restricted: LintMessage[][];
  beforeAll(async () => {
    const snippets = [...forbidden, ...allowed].map(([filePath, code]) => ({ filePath, code: `${code}\n` }));
    restricted = (await lint(snippets)).map((messages) => messages.filter((m) => m.ruleId === RULE));
  }, 60_000);

  it('refuses each forbidden import with an error that names the rule it breaks', () => {
    forbidden.forEach(([filePath, code, expected], index) => {
      expect({ filePath, code, messages: restricted[index] }).toEqual({
        filePath,
        code,
        messages: [expect.objectContaining({ severity: 2, message: expect.stringContaining(expected) })],
      });
    });
  });

  it('lets allowed imports through', () => {
    allowed.forEach(([filePath, code], index) => {
      expect({ filePath, code, messages: restricted[forbidden.length + index] }).toEqual({
        filePath,
        code,
        messages: [],
      });
    });
  });
});
