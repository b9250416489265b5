import { createHmac } from 'crypto';
import type { Connection } from '../registry/registry';
import { IDENTITY_KEY, ProtocolError } from './protocol';
import { tagOf } from './rules';

/**
 * Who a connection is across reconnects, shown as its four-hex-digit `tag` (docs/protocol.md, "Identity").
 *
 * - With access control on, the token's nick is the identity: whoever holds a token for that nick is that person.
 * - Otherwise a client may offer an identity key (`key.<key>`, a random secret it keeps); the same key gives the
 *   same tag on every connection.
 * - Without either, the tag comes from the connection ID, as before: new on every connection.
 *
 * The tag is an HMAC under a server-side key, not a plain hash of the client's secret: with a plain hash anyone
 * could try keys offline until one gives another person's tag (16 bits take milliseconds). With the server key
 * each try is a connection, which the gateway's per-address admission limits make slow. Sixteen bits tell
 * people apart; they are not authentication (that is what tokens are for).
 */

/** The tag key of a deployment, derived from a secret every function has (GATEWAY_SECRET), never that secret. */
export function tagKeyFrom(secret: string): string {
  return createHmac('sha256', secret).update('wschat identity tags v1').digest('base64url');
}

export function identityTag(tagKey: string | undefined, identity: string): string {
  return createHmac('sha256', tagKey ?? '')
    .update(identity)
    .digest('hex')
    .slice(0, 4);
}

/** The tag a connection registers with: from its token's nick, its identity key, or (neither) its ID. */
export function connectTag(
  tagKey: string | undefined,
  connectionId: string,
  identity: { tokenNick?: string; key?: string },
): string {
  if (identity.tokenNick !== undefined) return identityTag(tagKey, `token:${identity.tokenNick}`);
  if (identity.key !== undefined) {
    if (!IDENTITY_KEY.test(identity.key)) {
      throw new ProtocolError('bad_frame', 'identity key must be 22 to 128 base64url characters');
    }
    return identityTag(tagKey, `key:${identity.key}`);
  }
  return tagOf(connectionId);
}

/** The tag others see for a connection: the one it registered with (records from before tags were kept: its ID). */
export function connectionTag(connection: Pick<Connection, 'id' | 'tag'>): string {
  return connection.tag ?? tagOf(connection.id);
}
