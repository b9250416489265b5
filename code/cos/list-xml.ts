/**
 * Reads COS's GET Bucket (List Objects) answer, `ListBucketResult`, straight from the XML text.
 *
 * Why not the SDK's getBucket: it parses the whole document into an object tree (cos-fast-xml-parser) and then
 * deep-clones it, which took ~65 µs of CPU per listed key in the fan-out profile (65 ms of a 480 ms broadcast to
 * 1,000; see docs/benchmarks.md). A broadcast lists every member of the room, so that is paid per recipient.
 * This reader takes only the fields the registry needs. The request itself still goes through the SDK
 * (`cos.request` with `RawBody`), which signs it, retries it and parses error answers as before.
 * Shape: GET Bucket (List Objects), https://www.tencentcloud.com/document/product/436/30614.
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
function textOf(fragment: string, tag: string): string | undefined {
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
    const key = textOf(entry, 'Key');
    const lastModified = textOf(entry, 'LastModified');
    const etag = textOf(entry, 'ETag');
    if (key === undefined || lastModified === undefined || etag === undefined)
      throw new ListXmlError('a <Contents> entry lacks Key, LastModified or ETag');
    contents.push({ key, lastModified, etag });
    cursor = end + CONTENTS_CLOSE.length;
  }
  outside += xml.slice(cursor, rootEnd);
  const nextMarker = textOf(outside, 'NextMarker');
  return {
    contents,
    isTruncated: textOf(outside, 'IsTruncated') === 'true',
    nextMarker: nextMarker === undefined || nextMarker === '' ? undefined : nextMarker,
  };
}
