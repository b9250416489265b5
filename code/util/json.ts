/**
 * Reading untrusted JSON: objects only, and only fields the object has itself, never ones inherited from
 * Object.prototype (`constructor`, `toString`, …). Browser-safe: the web client shares the protocol parser.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function ownField(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** The field if it is the object's own and a string; undefined otherwise. */
export function ownString(obj: JsonObject, key: string): string | undefined {
  const value = ownField(obj, key);
  return typeof value === 'string' ? value : undefined;
}

/** JSON text that must hold an object; undefined for invalid JSON or any other value. */
export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
