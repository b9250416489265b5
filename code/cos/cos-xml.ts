/**
 * Reads the XML answers the store needs (GET Bucket's `ListBucketResult`, a multi-delete's `DeleteResult`, an
 * error's `Code`) straight from the text, taking only the fields the store uses.
 *
 * Why not an XML parser (the SDK's cos-fast-xml-parser): it builds the whole document as an object tree, which
 * took ~65 µs of CPU per listed key in the fan-out profile (65 ms of a 480 ms broadcast to 1,000; see
 * docs/benchmarks.md), and a broadcast lists every member of the room.
 * Shapes: GET Bucket (List Objects), https://www.tencentcloud.com/document/product/436/30614; DELETE Multiple
 * Objects, https://www.tencentcloud.com/document/product/436/30619.
 */

export interface ListedEntry {
  key: string;
  lastModified: string;
  etag: string;
}

export interface ListBucketResult {
  contents: ListedEntry[];
  isTruncated: boolean;
  nextMarker?: string;
}

const ENTITY = /&(lt|gt|amp|apos|quot|#(\d+)|#x([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

export function xmlUnescape(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(ENTITY, (entity: string, name: string, dec?: string, hex?: string) => {
    if (dec === undefined && hex === undefined) return NAMED[name]!;
    const codePoint = dec === undefined ? parseInt(hex!, 16) : Number(dec);
    // A reference to no character is left as written rather than failing the whole listing.
    return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
  });
}

export function xmlEscape(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]!};`,
  );
}

/** The text of the first `<tag>…</tag>` (or `<tag/>`, read as '') in a fragment, or undefined. */
export function xmlText(fragment: string, tag: string): string | undefined {
  const open = fragment.indexOf(`<${tag}>`);
  const empty = fragment.indexOf(`<${tag}/>`);
  if (empty !== -1 && (open === -1 || empty < open)) return '';
  if (open === -1) return undefined;
  const close = fragment.indexOf(`</${tag}>`, open);
  if (close === -1) return undefined;
  return xmlUnescape(fragment.slice(open + tag.length + 2, close));
}

export class ListXmlError extends Error {}

const CONTENTS_OPEN = '<Contents>';
const CONTENTS_CLOSE = '</Contents>';

export function parseListBucketResult(xml: string): ListBucketResult {
  const root = xml.indexOf('<ListBucketResult');
  const rootEnd = xml.lastIndexOf('</ListBucketResult>');
  if (root === -1 || rootEnd === -1) throw new ListXmlError('the answer is not a ListBucketResult');
  const contents: ListedEntry[] = [];
  // Everything outside the <Contents> entries: IsTruncated and NextMarker (COS puts them first, others last).
  let outside = '';
  let cursor = root;
  for (;;) {
    const start = xml.indexOf(CONTENTS_OPEN, cursor);
    if (start === -1 || start > rootEnd) break;
    const end = xml.indexOf(CONTENTS_CLOSE, start);
    if (end === -1) throw new ListXmlError('unterminated <Contents>');
    outside += xml.slice(cursor, start);
    // Each search runs on the entry alone, so a missing tag never scans the rest of the document.
    const entry = xml.slice(start + CONTENTS_OPEN.length, end);
    const key = xmlText(entry, 'Key');
    const lastModified = xmlText(entry, 'LastModified');
    const etag = xmlText(entry, 'ETag');
    if (key === undefined || lastModified === undefined || etag === undefined)
      throw new ListXmlError('a <Contents> entry lacks Key, LastModified or ETag');
    contents.push({ key, lastModified, etag });
    cursor = end + CONTENTS_CLOSE.length;
  }
  outside += xml.slice(cursor, rootEnd);
  const nextMarker = xmlText(outside, 'NextMarker');
  return {
    contents,
    isTruncated: xmlText(outside, 'IsTruncated') === 'true',
    nextMarker: nextMarker === undefined || nextMarker === '' ? undefined : nextMarker,
  };
}

export interface DeleteFailure {
  key: string;
  code: string;
}

/** The `<Error>` entries of a `DeleteResult` (with Quiet, COS lists only the keys it could not delete). */
export function parseDeleteFailures(xml: string): DeleteFailure[] {
  const failures: DeleteFailure[] = [];
  for (let start = xml.indexOf('<Error>'); start !== -1; start = xml.indexOf('<Error>', start + 1)) {
    const end = xml.indexOf('</Error>', start);
    const entry = xml.slice(start, end === -1 ? undefined : end);
    failures.push({ key: xmlText(entry, 'Key') ?? '', code: xmlText(entry, 'Code') ?? 'unknown' });
  }
  return failures;
}
