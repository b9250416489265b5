/** base64url text (RFC 4648 §5, no padding) for UTF-8 strings. Browser-safe: atob, btoa, TextEncoder, no Buffer. */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The UTF-8 text encoded in `value`, or undefined if it is not base64url or not valid UTF-8. */
export function decodeBase64Url(value: string): string | undefined {
  if (!BASE64URL.test(value)) return undefined;
  try {
    const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export function encodeBase64Url(value: string): string {
  const binary = String.fromCharCode(...new TextEncoder().encode(value));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
