import { existsSync } from 'fs';
import path from 'path';

/**
 * Every local command reads `.env` from the project root (or the file ENV_FILE names), with Node's own parser
 * (process.loadEnvFile, Node 20.12+). Variables already set in the shell win: `PORT=3001 npm start` still works.
 */
export function loadDotEnv(root: string = path.resolve(__dirname, '..', '..')): string | undefined {
  const file = process.env.ENV_FILE ? path.resolve(process.env.ENV_FILE) : path.join(root, '.env');
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
