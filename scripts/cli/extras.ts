import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { IDENTITY_KEY, newIdentityKey } from '../../code/chat/protocol';
import { formatNotice, sanitize, who } from './format';

/**
 * What the terminal client adds beside the shared session (code/client/session.ts): the identity key it keeps, `/who` (the room's
 * members, a page at a time) and `typing` notices, both ways. Kept apart so the session's protocol handling can
 * change without these, and these without it.
 */

/* ---------------- identity: a random key kept in a file, offered on every connect ---------------- */

/** $WSCHAT_IDENTITY_FILE, else $XDG_CONFIG_HOME/wschat/identity, else ~/.config/wschat/identity; '' turns it off. */
export function identityFile(env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env.WSCHAT_IDENTITY_FILE;
  if (explicit !== undefined) return explicit === '' ? undefined : explicit;
  const config = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'wschat', 'identity');
}

/**
 * The key in `file`, created (readable by its owner only) on first use. The key is what makes your tag yours, so
 * it stays on this machine; a file that is missing, unreadable or holds no valid key gets a fresh one.
 */
export function loadIdentityKey(file: string): { key: string; created: boolean } {
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (IDENTITY_KEY.test(stored)) return { key: stored, created: false };
  } catch {
    // not there yet
  }
  const key = newIdentityKey();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
  return { key, created: true };
}

/* ---------------- /who and /typing ---------------- */

export type ExtraInput =
  { kind: 'who'; more: boolean } | { kind: 'typing' } | { kind: 'invalid'; reason: string };

/** `/who` and `/typing`, or undefined for every other line (the session's). */
export function parseExtraInput(line: string): ExtraInput | undefined {
  const match = /^\/(who|typing)(?:\s+(.*))?$/i.exec(line.trim());
  if (!match) return undefined;
  const rest = (match[2] ?? '').trim();
  if (match[1]!.toLowerCase() === 'typing') {
    return rest ? { kind: 'invalid', reason: 'usage: /typing' } : { kind: 'typing' };
  }
  if (rest === '' || rest.toLowerCase() === 'more') return { kind: 'who', more: rest !== '' };
  return { kind: 'invalid', reason: 'usage: /who [more]' };
}

/** A person is shown typing again only after this long (notices repeat every few seconds while they type). */
const TYPING_SHOWN_FOR_MS = 10_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

export class Extras {
  /** The `next` of the last members page, for `/who more`. */
  private next?: string;
  private readonly typingShown = new Map<string, number>();

  /** The frame to send for an input line (or a line to print on stderr instead). */
  command(input: ExtraInput): { send?: string; err?: string } {
    if (input.kind === 'invalid') return { err: `! ${input.reason}` };
    if (input.kind === 'typing') return { send: JSON.stringify({ type: 'typing' }) };
    if (input.more && this.next === undefined) return { err: '! no more members: /who starts again' };
    const after = input.more ? this.next : undefined;
    return { send: JSON.stringify({ type: 'members', ref: 'who', ...(after ? { after } : {}) }) };
  }

  /** stdout lines for a server frame this file handles (members, typing); none for the others. */
  received(frame: string, now: number): string[] {
    let e: unknown;
    try {
      e = JSON.parse(frame);
    } catch {
      return [];
    }
    if (!isObj(e) || e.v !== 1) return [];
    if (e.type === 'members' && Array.isArray(e.members)) {
      const names = e.members
        .filter(isObj)
        .map((m) => who(text(m, 'nick') ?? '?', text(m, 'tag') ?? '?'))
        .join(', ');
      this.next = text(e, 'next');
      const more = this.next === undefined ? '' : ' (more: /who more)';
      return [formatNotice(now, `in ${sanitize(text(e, 'room') ?? '?')}: ${names || 'nobody'}${more}`)];
    }
    if (e.type === 'typing') {
      const person = who(text(e, 'nick') ?? '?', text(e, 'tag') ?? '?');
      const shown = this.typingShown.get(person);
      if (shown !== undefined && now - shown < TYPING_SHOWN_FOR_MS) return [];
      this.typingShown.set(person, now);
      if (this.typingShown.size > 1000)
        this.typingShown.delete(this.typingShown.keys().next().value as string);
      return [formatNotice(typeof e.ts === 'number' ? e.ts : now, `${person} is typing`)];
    }
    if (e.type === 'message') {
      // Their message arrived: the next notice from them is news again.
      this.typingShown.delete(who(text(e, 'from') ?? '?', text(e, 'tag') ?? '?'));
    }
    return [];
  }
}
