import { promises as fs } from 'fs';
import path from 'path';
import type { ServerResponse } from 'http';

/** The web client's files, for a gateway that serves the page itself (GATEWAY_WEB_DIR, and `npm start`). */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** The file under webDir a request path names, or undefined (outside the folder, hidden, or not decodable). */
export function resolveStatic(webDir: string, pathname: string): string | undefined {
  let relative: string;
  try {
    relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
  } catch {
    return undefined;
  }
  if (relative.includes('\0') || relative.split(/[\\/]/).some((part) => part.startsWith('.')))
    return undefined;
  const root = path.resolve(webDir);
  const file = path.resolve(root, relative);
  return file.startsWith(root + path.sep) ? file : undefined;
}

export async function serveStatic(
  webDir: string,
  pathname: string,
  res: ServerResponse,
  head: boolean,
): Promise<boolean> {
  const file = resolveStatic(webDir, pathname);
  if (file === undefined) return false;
  let body: Buffer;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile() || stat.size > 16 * 1024 * 1024) return false;
    body = await fs.readFile(file);
  } catch {
    return false;
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(head ? undefined : body);
  return true;
}
