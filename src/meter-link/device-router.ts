import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { requestIdFor } from '../transport/request-id';
import { DeviceRequestError, describeProblem } from './device-messages';
import { GatewayRepository, hashGatewayToken, type Gateway } from './gateway-repository';
import type { MeterLinkService } from './link-service';

/**
 * The device API (docs/device-api.md): HTTP JSON for gateways and protocol adapters.
 *
 *   POST /device/v1/uplink   reports of one or many meters → their due commands
 *   POST /device/v1/ack      the meters' answers to commands → their next commands
 *   GET  /device/v1/meters   the tenant's meters (for a simulator or a gateway's set-up)
 *
 * `Authorization: Bearer <gateway token>`; the token decides the tenant, and a gateway sees only
 * that tenant's meters. A refused request changes nothing and is answered with every problem
 * found, each naming the item and meter concerned.
 */
export interface DeviceRouterOptions {
  dataSource: DataSource;
  service: MeterLinkService;
  logger: Logger;
  bodyLimitBytes: number;
}

/** How long a token's gateway is remembered: a revoked token stops working within this. */
const GATEWAY_CACHE_MS = 10_000;

export function createDeviceRouter(options: DeviceRouterOptions): Router {
  const router = express.Router();
  const readBody = express.text({ type: () => true, limit: options.bodyLimitBytes });
  const authenticate = gatewayAuthenticator(options.dataSource);

  router.post('/device/v1/uplink', readBody, handle(options, authenticate, 'uplink', (gateway, request, id) =>
    options.service.uplink(gateway, bodyText(request), id),
  ));
  router.post('/device/v1/ack', readBody, handle(options, authenticate, 'ack', (gateway, request, id) =>
    options.service.acknowledge(gateway, bodyText(request), id),
  ));
  router.get('/device/v1/meters', handle(options, authenticate, 'meters', async (gateway) => ({
    meters: await options.service.listMeters(gateway),
  })));
  router.all('/device/v1/*path', (_request, response) => {
    response.status(404).json({ error: 'not_found', message: 'see docs/device-api.md for the device API' });
  });
  router.use('/device', bodyErrorHandler);
  return router;
}

type Authenticator = (request: Request) => Promise<Gateway | undefined>;

function handle(
  options: DeviceRouterOptions,
  authenticate: Authenticator,
  call: string,
  work: (gateway: Gateway, request: Request, requestId: string) => Promise<object>,
) {
  return async (request: Request, response: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(request);
    response.setHeader('X-Request-Id', requestId);
    const gateway = await authenticate(request).catch(() => undefined);
    const line = { requestId, call, gateway: gateway?.name, tenant: gateway?.tenant.code };
    const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);

    if (!gateway) {
      options.logger.warn({ ...line, remoteAddress: request.ip }, 'device call refused: no valid gateway token');
      response.status(401).json({ error: 'unauthorized', message: 'Authorization: Bearer <gateway token> required' });
      return;
    }
    try {
      const answer = await work(gateway, request, requestId);
      options.logger.info({ ...line, durationMs: elapsed(), ...counts(answer) }, 'device call');
      response.status(200).json(answer);
    } catch (error) {
      if (error instanceof DeviceRequestError) {
        const problems = error.problems.slice(0, 100);
        options.logger.warn(
          { ...line, status: error.status, problems: problems.slice(0, 10).map(describeProblem) },
          'device call refused',
        );
        response.status(error.status).json({ error: 'refused', message: 'nothing was stored', problems });
        return;
      }
      options.logger.error({ ...line, err: error }, 'device call failed with a platform fault');
      response.status(500).json({ error: 'platform_fault', message: `retry later (request ${requestId})` });
    }
  };
}

function gatewayAuthenticator(dataSource: DataSource): Authenticator {
  const cache = new Map<string, { gateway: Gateway; until: number }>();
  return async (request) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.get('Authorization') ?? '')?.[1];
    if (!token) return undefined;
    const key = hashGatewayToken(token);
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.gateway;

    const repository = new GatewayRepository(dataSource.manager);
    const gateway = await repository.findByToken(token);
    if (!gateway) {
      cache.delete(key);
      return undefined;
    }
    await repository.markSeen(gateway.id);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { gateway, until: Date.now() + GATEWAY_CACHE_MS });
    return gateway;
  };
}

function bodyText(request: Request): string {
  return typeof request.body === 'string' ? request.body : '';
}

function counts(answer: object): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, value] of Object.entries(answer)) {
    if (typeof value === 'number') result[key] = value;
    else if (Array.isArray(value)) result[key] = value.length;
  }
  return result;
}

/** A body too large or unreadable as text is the gateway's problem, said in the API's words. */
function bodyErrorHandler(error: unknown, _request: Request, response: Response, next: NextFunction): void {
  const status = (error as { status?: number }).status;
  if (response.headersSent || status === undefined || status >= 500) return next(error);
  response.status(status).json({
    error: 'refused',
    message: 'nothing was stored',
    problems: [{ message: (error as Error).message }],
  });
}
