import type { DataSource } from 'typeorm';
import { PlatformError, isPlatformError } from '../domain/errors';
import { optionalString } from '../domain/fields';
import { writeJson, type JsonOutput } from '../domain/json-output';
import type { Tenant } from '../domain/model';
import { parsePayload, type PayloadObject } from '../domain/payload';
import { ReturnCode, defaultMessage } from '../domain/return-codes';
import type { Logger } from '../logger';
import { Store } from '../persistence/repositories/store';
import { runTransaction } from '../persistence/transaction';
import { OPERATION_REGISTRY } from '../services/operation-registry';
import type { OperationResult } from '../services/operation';
import type { InboundMessage, MessageHandler, OutboundMessage } from '../transport/message';
import { isPlaintextRequest, type MessageSecurity, type OpenedRequest } from './message-security';
import { resolvePlaintextTenant, resolvePlaintextTenantByPath } from './tenant-resolution';

/**
 * The one place where a request from either transport becomes an operation call, and where every
 * outcome becomes a ReturnCode (DECISIONS §2.3: behaviour never depends on the transport).
 *
 * Steps: open the envelope (plaintext or encrypted), find the tenant, check DataFrom, run the
 * operation in one transaction, answer in the envelope the request came in, log the call.
 */
export interface DispatcherDependencies {
  dataSource: DataSource;
  security: MessageSecurity;
  logger: Logger;
}

interface Outcome {
  tenant?: Tenant;
  encrypted: boolean;
  opened?: OpenedRequest;
  code: number;
  message: string;
  fields?: OperationResult;
}

export function createDispatcher(dependencies: DispatcherDependencies): MessageHandler {
  return async (message) => {
    const started = process.hrtime.bigint();
    const outcome = await handle(dependencies, message);
    const response = await respond(dependencies, outcome);
    const durationMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
    await recordCall(dependencies, message, outcome, durationMs);
    return response;
  };
}

async function handle(dependencies: DispatcherDependencies, message: InboundMessage): Promise<Outcome> {
  const encrypted = !isPlaintextRequest(message);
  let tenant: Tenant | undefined;
  let opened: OpenedRequest | undefined;
  try {
    opened = encrypted ? await dependencies.security.openEncrypted(message) : undefined;
    tenant = opened ? opened.tenant : await resolvePlaintextTenantByPath(dependencies.dataSource, message);
    const payload = parsePayload(opened ? opened.payloadText : message.encryptData);
    tenant ??= await resolvePlaintextTenant(dependencies.dataSource, message, payload);

    checkDataFrom(message, payload, tenant);
    const fields = await runOperation(dependencies.dataSource, message, payload, tenant);
    return { tenant, encrypted, opened, code: ReturnCode.Success, message: defaultMessage(0), fields };
  } catch (error) {
    return { tenant, encrypted, opened, ...describeFailure(dependencies.logger, message, error) };
  }
}

/** DECISIONS §3.6: the payload's DataFrom must name the tenant the request was resolved to. */
function checkDataFrom(message: InboundMessage, payload: PayloadObject, tenant: Tenant): void {
  const dataFrom = optionalString(payload, 'DataFrom', 50);
  if (dataFrom === undefined) {
    if (!OPERATION_REGISTRY[message.operation].dataFromRequired) return;
    throw new PlatformError(ReturnCode.MissingOrInvalidField, '传入参数缺少重要字段：DataFrom');
  }
  if (dataFrom !== tenant.name) {
    throw new PlatformError(ReturnCode.TenantMismatch, `数据归属与接入凭证不符：${dataFrom}`);
  }
}

async function runOperation(
  dataSource: DataSource,
  message: InboundMessage,
  payload: PayloadObject,
  tenant: Tenant,
): Promise<OperationResult | undefined> {
  const { handler } = OPERATION_REGISTRY[message.operation];
  const receivedAt = new Date();
  const result = await runTransaction(dataSource, (manager) =>
    handler(payload, { tenant, requestId: message.requestId, store: new Store(manager), receivedAt }),
  );
  return result ?? undefined;
}

/**
 * A PlatformError is the caller's mistake and is logged at info; anything else is ours, logged
 * at error with its stack, and answered 80001010 without details (STYLE §2).
 */
function describeFailure(
  logger: Logger,
  message: InboundMessage,
  error: unknown,
): { code: number; message: string } {
  if (isPlatformError(error)) return { code: error.code, message: error.message };

  logger.error(
    { err: error, requestId: message.requestId, operation: message.operation },
    'operation failed with a platform fault',
  );
  return { code: ReturnCode.DatabaseWriteFailed, message: `${defaultMessage(80001010)}（平台内部错误，请求号 ${message.requestId}）` };
}

async function respond(dependencies: DispatcherDependencies, outcome: Outcome): Promise<OutboundMessage> {
  const body: Record<string, JsonOutput> = {
    ReturnCode: outcome.code,
    ReturnMessage: outcome.message,
    ...outcome.fields,
  };
  const payloadText = writeJson(body);

  // An encrypted request is answered encrypted (DECISIONS §3.3) when we know whose key to use;
  // one that failed before its tenant was known can only be answered in plaintext.
  if (outcome.encrypted && outcome.tenant) {
    try {
      const sealed = await dependencies.security.sealEncrypted(outcome.tenant, payloadText, outcome.opened);
      return { returnCode: outcome.code, ...sealed };
    } catch (error) {
      // The operation's answer must not go out in clear: say only that the platform failed.
      dependencies.logger.error({ err: error, tenant: outcome.tenant.code }, 'sealing the answer failed');
      return plaintextAnswer(ReturnCode.DatabaseWriteFailed, defaultMessage(ReturnCode.DatabaseWriteFailed));
    }
  }
  return { returnCode: outcome.code, encryptData: payloadText, disperseKey: '', macValue: '' };
}

function plaintextAnswer(code: number, message: string): OutboundMessage {
  const encryptData = writeJson({ ReturnCode: code, ReturnMessage: message });
  return { returnCode: code, encryptData, disperseKey: '', macValue: '' };
}

/** One log line and one call-log row per request: never keys or payloads (STYLE §7). */
async function recordCall(
  dependencies: DispatcherDependencies,
  message: InboundMessage,
  outcome: Outcome,
  durationMs: number,
): Promise<void> {
  const line = {
    requestId: message.requestId,
    tenant: outcome.tenant?.code,
    transport: message.transport,
    operation: message.operation,
    code: outcome.code,
    durationMs,
  };
  dependencies.logger.info(line, 'interface call');

  try {
    await new Store(dependencies.dataSource.manager).callLog.record({
      occurredAt: new Date(),
      tenantId: outcome.tenant?.id ?? null,
      transport: message.transport,
      operation: message.operation,
      returnCode: outcome.code,
      durationMs,
      requestId: message.requestId,
      remoteAddress: message.remoteAddress?.slice(0, 64) ?? null,
    });
  } catch (error) {
    dependencies.logger.error({ err: error, requestId: message.requestId }, 'call log write failed');
  }
}
