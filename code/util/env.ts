/**
 * Readers for environment variables, shared by the functions' and the gateway's configuration. Each failure
 * names the variable and what it should hold, so a misconfigured deploy fails at start with an actionable line.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function requiredEnv(env: Env, name: string, hint: string): string {
  const value = readEnv(env, name);
  if (value === undefined) throw new ConfigError(`Missing environment variable ${name}: ${hint}`);
  return value;
}

export function integerEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `Environment variable ${name} must be an integer from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

export function httpUrlEnv(name: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new ConfigError(`Environment variable ${name} must be an http(s) URL, got "${value}"`);
  }
}

export function choiceEnv<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw))
    throw new ConfigError(`Environment variable ${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

export const MIN_GATEWAY_SECRET_LENGTH = 32;

/** GATEWAY_SECRET, read the same way by the functions and the gateway (it signs traffic both ways). */
export function gatewaySecretEnv(env: Env, hint: string): string {
  const secret = requiredEnv(env, 'GATEWAY_SECRET', hint);
  if (secret.length < MIN_GATEWAY_SECRET_LENGTH)
    throw new ConfigError(
      `Environment variable GATEWAY_SECRET must be at least ${MIN_GATEWAY_SECRET_LENGTH} characters`,
    );
  return secret;
}
