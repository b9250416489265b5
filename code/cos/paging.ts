import { createHash } from 'crypto';
import { StoreError } from '../util/store-error';
import type { ListedObject, ListPage } from './object-store';

/* Shared by the COS and the S3 store; its own file, free of SDK imports, so each bundle carries only its own SDK. */

/** The ETag COS and S3 both give a simple PUT (and list): the MD5 of the body, in hex. */
export function etagOf(body: string): string {
  return createHash('md5').update(body).digest('hex');
}

/** COS and S3 both allow at most 1000 keys per list page and per multi-delete. */
export const COS_PAGE_SIZE = 1000;

/**
 * Every object under the prefix (only keys after `after`, when given), a page (a request) at a time, following
 * each page's marker.
 */
export async function* allPages(
  list: (prefix: string, options: { marker?: string }) => Promise<ListPage>,
  prefix: string,
  after?: string,
): AsyncIterable<ListedObject[]> {
  let marker: string | undefined = after;
  do {
    const page = await list(prefix, { marker });
    yield page.objects;
    marker = page.nextMarker;
  } while (marker !== undefined);
}

/** Runs `remove` on the keys a page (1000) at a time, in order: both stores' multi-delete limit. */
export async function inPages(keys: string[], remove: (page: string[]) => Promise<void>): Promise<void> {
  for (let start = 0; start < keys.length; start += COS_PAGE_SIZE)
    await remove(keys.slice(start, start + COS_PAGE_SIZE));
}

/** A read whose failure means "no such object" (as the store's SDK reports it in the StoreError's cause). */
export async function unlessMissing<T>(
  read: Promise<T>,
  isNotFound: (cause: unknown) => boolean,
): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof StoreError && isNotFound(error.cause)) return undefined;
    throw error;
  }
}
