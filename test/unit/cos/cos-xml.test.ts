import COS from 'cos-nodejs-sdk-v5';
import fc from 'fast-check';
import {
  ListXmlError,
  parseDeleteFailures,
  parseListBucketResult,
  xmlEscape,
  xmlUnescape,
} from '../../../code/cos/cos-xml';

// Shaped like the response example of GET Bucket (https://www.tencentcloud.com/document/product/436/30614):
// indented, header fields before the entries, an ETag entity-escaped (and one not, which XML also allows).
const DOCUMENTED = `<?xml version='1.0' encoding='utf-8' ?>
<ListBucketResult>
	<Name>examplebucket-1250000000</Name>
	<Prefix>doc/</Prefix>
	<Marker/>
	<MaxKeys>2</MaxKeys>
	<IsTruncated>true</IsTruncated>
	<NextMarker>doc/exampleobject2.txt</NextMarker>
	<Contents>
		<Key>doc/exampleobject1.txt</Key>
		<LastModified>2020-12-10T03:37:30.000Z</LastModified>
		<ETag>&quot;ee8de918d05640145b18f70f4c3aa602&quot;</ETag>
		<Size>1048576</Size>
		<Owner>
			<ID>1250000000</ID>
			<DisplayName>1250000000</DisplayName>
		</Owner>
		<StorageClass>STANDARD</StorageClass>
	</Contents>
	<Contents>
		<Key>doc/exampleobject2.txt</Key>
		<LastModified>2020-12-10T03:37:31.000Z</LastModified>
		<ETag>"a5b5d1f2c9e1a8f0f5f4b0c3d2e1f0a9"</ETag>
		<Size>12</Size>
		<Owner><ID>1250000000</ID><DisplayName>1250000000</DisplayName></Owner>
		<StorageClass>STANDARD</StorageClass>
	</Contents>
</ListBucketResult>`;

describe('parseListBucketResult', () => {
  it('reads an answer shaped like the documented one', () => {
    expect(parseListBucketResult(DOCUMENTED)).toEqual({
      contents: [
        {
          key: 'doc/exampleobject1.txt',
          lastModified: '2020-12-10T03:37:30.000Z',
          etag: '"ee8de918d05640145b18f70f4c3aa602"',
        },
        {
          key: 'doc/exampleobject2.txt',
          lastModified: '2020-12-10T03:37:31.000Z',
          etag: '"a5b5d1f2c9e1a8f0f5f4b0c3d2e1f0a9"',
        },
      ],
      isTruncated: true,
      nextMarker: 'doc/exampleobject2.txt',
    });
  });

  it('reads an empty last page, and header fields written after the entries', () => {
    expect(
      parseListBucketResult(
        '<ListBucketResult><Name>b</Name><Prefix>x/</Prefix><NextMarker/><IsTruncated>false</IsTruncated></ListBucketResult>',
      ),
    ).toEqual({ contents: [], isTruncated: false, nextMarker: undefined });
    expect(
      parseListBucketResult(
        '<ListBucketResult><Contents><Key>a</Key><LastModified>t</LastModified><ETag>e</ETag></Contents>' +
          '<IsTruncated>true</IsTruncated><NextMarker>a</NextMarker></ListBucketResult>',
      ),
    ).toEqual({ contents: [{ key: 'a', lastModified: 't', etag: 'e' }], isTruncated: true, nextMarker: 'a' });
  });

  it.each([
    ['an error document', '<Error><Code>NoSuchBucket</Code></Error>'],
    ['a truncated document', '<ListBucketResult><Contents><Key>a</Key>'],
    [
      'an entry without its ETag',
      '<ListBucketResult><Contents><Key>a</Key><LastModified>t</LastModified></Contents></ListBucketResult>',
    ],
  ])('rejects %s', (_name, xml) => {
    expect(() => parseListBucketResult(xml)).toThrow(ListXmlError);
  });

  it('leaves a reference to no character as written', () => {
    expect(xmlUnescape('a&#x110000;b&#65;&amp;')).toBe('a&#x110000;bA&');
  });

  it('agrees with the SDK’s own XML reader on any keys', () => {
    const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((k) => k.trim() === k);
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 20 }), fc.boolean(), (keys, truncated) => {
        const xml =
          `<?xml version='1.0' encoding='utf-8' ?><ListBucketResult><Name>b-1</Name><Prefix/>` +
          `<IsTruncated>${truncated}</IsTruncated>` +
          (truncated && keys.length ? `<NextMarker>${xmlEscape(keys[keys.length - 1]!)}</NextMarker>` : '') +
          keys
            .map(
              (k, i) =>
                `<Contents><Key>${xmlEscape(k)}</Key><LastModified>2026-11-22T00:00:0${i % 10}.000Z</LastModified>` +
                `<ETag>&quot;${i}&quot;</ETag><Size>1</Size><Owner><ID>1</ID></Owner></Contents>`,
            )
            .join('') +
          '</ListBucketResult>';
        const ours = parseListBucketResult(xml);
        expect(ours.contents.map((c) => c.key)).toEqual(keys);
        // The SDK's reader, as getBucket uses it: one entry is an object, several an array.
        const sdk = (
          COS.util.xml2json(xml) as { ListBucketResult: { Contents?: unknown; NextMarker?: unknown } }
        ).ListBucketResult;
        const listed =
          sdk.Contents === undefined ? [] : Array.isArray(sdk.Contents) ? sdk.Contents : [sdk.Contents];
        expect(ours.contents).toEqual(
          (listed as Array<{ Key: unknown; LastModified: string; ETag: string }>).map((c) => ({
            key: String(c.Key),
            lastModified: c.LastModified,
            etag: c.ETag,
          })),
        );
        expect(ours.isTruncated).toBe(truncated);
        if (ours.nextMarker !== undefined) expect(ours.nextMarker).toBe(String(sdk.NextMarker));
      }),
    );
  });
});

describe('parseDeleteFailures', () => {
  it('lists the keys COS could not delete, with their codes (DeleteResult, Quiet)', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><DeleteResult>' +
      '<Error><Key>app/a&amp;b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>' +
      '<Error><Key>app/c</Key><Code>InternalError</Code><Message>x</Message></Error></DeleteResult>';
    expect(parseDeleteFailures(xml)).toEqual([
      { key: 'app/a&b', code: 'AccessDenied' },
      { key: 'app/c', code: 'InternalError' },
    ]);
  });

  it('finds none in a quiet answer that deleted everything', () => {
    expect(parseDeleteFailures('<DeleteResult></DeleteResult>')).toEqual([]);
    expect(parseDeleteFailures('<DeleteResult><Deleted><Key>app/a</Key></Deleted></DeleteResult>')).toEqual(
      [],
    );
  });
});
