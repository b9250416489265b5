import { issueToken } from '../code/chat/token';
import { loadDotEnv } from './load-env';
import { UsageError } from './cli/args';
import { parseTokenArgs, TOKEN_USAGE } from './cli/token-args';

/**
 * Issues a signed connect token from a shell, for backends and scripts:
 *   AUTH_SECRET=... npm run -s token -- --nick alice --room lobby --ttl 3600
 * Only the token goes to stdout, so `TOKEN=$(node dist/tools/token.js --nick alice)` works.
 */
try {
  loadDotEnv();
  const parsed = parseTokenArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${TOKEN_USAGE}\n`);
  } else {
    process.stdout.write(`${issueToken(parsed.secret, parsed.options)}\n`);
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`token: ${error.message}\nTry "npm run -s token -- --help".\n`);
  process.exitCode = 2;
}
