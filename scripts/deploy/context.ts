import { mkdirSync, renameSync, writeFileSync } from 'fs';
import path from 'path';
import { CloudApiError, type CloudApi, type CloudService, type Credentials } from './cloud-api';
import { CosApiError, type BucketApi } from './cos-api';
import { DeployError } from './errors';
import { isObject, isSecretName, type Json, type JsonObject, type Stack } from './stack';

/** What every phase gets: options, output, the two API clients, and the stack's cloud-side record. */

export interface DeployOptions {
  dryRun: boolean;
  skipTests: boolean;
  fromPhase: number;
  smoke: boolean;
  smokeUrl?: string;
  smokeTimeoutMs: number;
  /** With --remove: also empty keyPrefix and delete the bucket. */
  deleteBucket: boolean;
}

export interface DeployContext {
  root: string;
  /** Where web/config.json goes (DEPLOY_OUT_DIR, default dist/). */
  outDir: string;
  env: NodeJS.ProcessEnv;
  options: DeployOptions;
  print: (line: string) => void;
  /** Interval and limit for waiting on a function, an instance or a command. */
  pollIntervalMs: number;
  waitLimitMs: number;
  credentials?: Credentials;
  api?: CloudApi;
  bucket?: BucketApi;
  /** The phase running now, for error messages. */
  phase: number;
}

/**
 * The deploy's own record in the bucket (deploy/<stage>/record.json): what code each function runs and what release
 * and environment the gateway runs. It lets a re-run see that nothing changed without a hash field in any Tencent API.
 */
export interface CloudRecord {
  functions: Record<string, string>;
  gateway?: { instanceId: string; releaseSha: string; envSha: string };
}

export function recordKey(stack: Stack): string {
  return `${stack.bucket.deployPrefix}record.json`;
}

export async function readRecord(ctx: DeployContext, stack: Stack): Promise<CloudRecord> {
  const text = await cos(ctx, (b) => b.getObject(recordKey(stack)));
  try {
    const parsed: unknown = text === undefined ? {} : JSON.parse(text);
    if (isObject(parsed)) {
      return {
        functions: isObject(parsed.functions) ? (parsed.functions as Record<string, string>) : {},
        gateway: isObject(parsed.gateway) ? (parsed.gateway as CloudRecord['gateway']) : undefined,
      };
    }
  } catch {
    // A damaged record only costs the shortcuts it gives: everything is redeployed.
  }
  return { functions: {} };
}

export async function writeRecord(ctx: DeployContext, stack: Stack, record: CloudRecord): Promise<void> {
  await cos(ctx, (b) =>
    b.putObject(recordKey(stack), `${JSON.stringify(record, null, 2)}\n`, 'application/json'),
  );
}

/** One Cloud API call, printed (secrets redacted) before it is sent; failures become DeployErrors of this phase. */
export async function call(
  ctx: DeployContext,
  service: CloudService,
  action: string,
  params: JsonObject,
): Promise<JsonObject> {
  if (!ctx.api) {
    throw new DeployError(
      'no Tencent Cloud API client',
      'internal error: credentials were not read',
      ctx.phase,
    );
  }
  ctx.print(`    api ${service}.${action} ${JSON.stringify(redact(params))}`);
  try {
    return await ctx.api.call(service, action, params);
  } catch (error) {
    if (error instanceof CloudApiError) throw apiFailure(error, ctx.phase);
    throw error;
  }
}

/** The same call, but an error whose code starts with one of `missing` means "not there" and yields undefined. */
export async function callOrMissing(
  ctx: DeployContext,
  service: CloudService,
  action: string,
  params: JsonObject,
  missing: string[] = ['ResourceNotFound'],
): Promise<JsonObject | undefined> {
  try {
    return await call(ctx, service, action, params);
  } catch (error) {
    const code = error instanceof DeployError ? error.code : undefined;
    if (code && missing.some((m) => code.startsWith(m))) return undefined;
    throw error;
  }
}

export async function cos<T>(ctx: DeployContext, run: (bucket: BucketApi) => Promise<T>): Promise<T> {
  if (!ctx.bucket) {
    throw new DeployError('no COS client', 'internal error: credentials were not read', ctx.phase);
  }
  try {
    return await run(ctx.bucket);
  } catch (error) {
    if (error instanceof CosApiError) {
      const denied = error.statusCode === 403;
      throw new DeployError(
        error.message,
        denied
          ? `give the deploy key the COS actions of docs/deploy.md ("Permissions") on this bucket, then resume with --from-phase ${ctx.phase}`
          : `check the bucket and the network, then resume with --from-phase ${ctx.phase}`,
        ctx.phase,
        error.code,
      );
    }
    throw error;
  }
}

/** For the progress log: values of secret-looking variables and keys (AUTH_SECRET, UserData, ZipFile) become ***. */
export function redact(value: Json): Json {
  if (Array.isArray(value)) return value.map(redact);
  if (!isObject(value)) return value;
  if (typeof value.Key === 'string' && isSecretName(value.Key) && 'Value' in value) {
    return { ...value, Value: '***' };
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      // Bulky or sensitive payloads: a function zip, a boot script with pre-signed URLs, a command.
      if ((k === 'ZipFile' || k === 'UserData' || k === 'Content') && typeof v === 'string') {
        return [k, `<${v.length} base64 chars>`];
      }
      return [k, redact(v)];
    }),
  );
}

function apiFailure(error: CloudApiError, phase: number): DeployError {
  const code = error.code ?? '';
  let fix = `retry with --from-phase ${phase}; if it keeps failing, look the RequestId up in the Tencent Cloud console`;
  if (code.startsWith('AuthFailure')) {
    fix =
      'check TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for temporary keys) ' +
      'and the clock';
  } else if (code.startsWith('UnauthorizedOperation') || code.startsWith('OperationDenied')) {
    fix =
      `give the deploy key ${error.service}:${error.action} (the deploy policy of docs/deploy.md, "Permissions"), ` +
      `then resume with --from-phase ${phase}`;
  } else if (code.startsWith('ResourceNotFound')) {
    fix =
      'something an earlier phase creates is missing: resume with --from-phase 3 (role, network, functions) or ' +
      '--from-phase 4 (gateway)';
  } else if (code.startsWith('LimitExceeded') || code.includes('Quota') || code.includes('Insufficient')) {
    fix = `raise the quota or pick another zone / instance type in scripts/deploy/tencent-stack.yml, then resume with --from-phase ${phase}`;
  } else if (!code) {
    fix = `check the network (and HTTPS_PROXY), then resume with --from-phase ${phase}`;
  }
  return new DeployError(error.message, fix, phase, code || undefined);
}

/** Polls `probe` until it returns a value, at ctx.pollIntervalMs, for at most ctx.waitLimitMs. */
export async function waitFor<T>(
  ctx: DeployContext,
  what: string,
  probe: () => Promise<T | undefined>,
  fix: string,
): Promise<T> {
  const deadline = Date.now() + ctx.waitLimitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new DeployError(
        `${what}: still waiting after ${Math.round(ctx.waitLimitMs / 1000)} s`,
        fix,
        ctx.phase,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ctx.pollIntervalMs));
  }
}

export function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function field(obj: JsonObject | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function shown(ctx: DeployContext, file: string): string {
  const relative = path.relative(ctx.root, file);
  return relative.startsWith('..') ? file : relative;
}

export function writeAtomically(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

/** The Tags of a resource as a map (VPC TagSet, CVM Tags, SCF Tags all use {Key, Value}). */
export function tagsOf(value: unknown): Record<string, string> {
  return Object.fromEntries(objects(value).map((t) => [field(t, 'Key') ?? '', field(t, 'Value') ?? '']));
}
