import http from 'http';
import https from 'https';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { toAwsId } from '../aws/events';
import type { AwsPushSettings } from '../config-aws';
import type { PushClient, PushOutcome } from './push-client';

/**
 * Pushes on AWS: `POST` / `DELETE {endpoint}/@connections/{id}` through the official management API client, signed
 * by the SDK with the function's role. How answers are read (the operation's documented errors):
 *   - 2xx                                → delivered;
 *   - GoneException (410)                → gone: the *target* connection is pruned by the core (the field's sample
 *                                          deletes the sender here instead, shared/docs/field-2026.md);
 *   - LimitExceededException (429) and other throttling, 5xx, network errors → retried by the SDK's standard
 *                                          retry strategy (maxAttempts = PUSH_RETRIES + 1), then failed;
 *   - ForbiddenException, PayloadTooLargeException, anything else → failed, not retried.
 * The broadcast deadline becomes an abort signal, so no retry outlives the function's push budget.
 */

type SdkError = { name?: string; $metadata?: { httpStatusCode?: number } };

export function classifyPushError(error: unknown): PushOutcome {
  const e = (error ?? {}) as SdkError;
  if (e.name === 'GoneException' || e.$metadata?.httpStatusCode === 410) return 'gone';
  return 'failed';
}

export interface AwsPushOptions {
  /** Local runs: fixed keys instead of the default chain (the local gateway checks no signature). */
  localCredentials?: boolean;
}

export function createAwsPushClient(
  settings: AwsPushSettings,
  options: AwsPushOptions = {},
  agent: http.Agent = settings.endpoint.startsWith('https:')
    ? new https.Agent({ keepAlive: true, maxSockets: settings.concurrency })
    : new http.Agent({ keepAlive: true, maxSockets: settings.concurrency }),
): PushClient {
  const client = new ApiGatewayManagementApiClient({
    endpoint: settings.endpoint,
    region: settings.region,
    maxAttempts: settings.retries + 1,
    // One keep-alive agent per container: a broadcast reuses its sockets, as the Tencent push client does.
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent as https.Agent,
      requestTimeout: settings.timeoutMs,
      connectionTimeout: settings.timeoutMs,
    },
    ...(options.localCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });

  async function call(
    command: PostToConnectionCommand | DeleteConnectionCommand,
    deadline: number | undefined,
  ): Promise<PushOutcome> {
    const remaining = deadline === undefined ? undefined : deadline - Date.now();
    if (remaining !== undefined && remaining <= 0) return 'failed';
    try {
      if (command instanceof PostToConnectionCommand)
        await client.send(
          command,
          remaining === undefined ? {} : { abortSignal: AbortSignal.timeout(remaining) },
        );
      else
        await client.send(
          command,
          remaining === undefined ? {} : { abortSignal: AbortSignal.timeout(remaining) },
        );
      return 'delivered';
    } catch (error) {
      return classifyPushError(error);
    }
  }

  return {
    send: (connectionId, text, options) =>
      call(
        new PostToConnectionCommand({ ConnectionId: toAwsId(connectionId), Data: text }),
        options?.deadline,
      ),
    close: (connectionId, options) =>
      call(new DeleteConnectionCommand({ ConnectionId: toAwsId(connectionId) }), options?.deadline),
  };
}
