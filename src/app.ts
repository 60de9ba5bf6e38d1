import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from './logger';
import type { MessageHandler } from './transport/message';
import { createRestRouter } from './transport/rest/rest-router';
import { createSoapRouter } from './transport/soap/soap-router';

export interface AppOptions {
  handler: MessageHandler;
  logger: Logger;
  bodyLimitBytes: number;
  publicUrl?: string;
  restContentType: 'text/html' | 'application/json';
  /** Whether a `/{tenantCode}/...` path names a gas company served here (see SoapRouterOptions). */
  servesTenant?: (tenantCode: string) => Promise<boolean>;
  /** Further routers (device API, ...) mounted after the CIS interfaces. */
  extraRouters?: express.Router[];
}

/** The HTTP application: the two CIS transports side by side, and nothing answers in HTML. */
export async function createApp(options: AppOptions): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.get('/health', (_request, response) => {
    response.json({ status: 'ok' });
  });
  const soapRouter = createSoapRouter(options.handler, {
    publicUrl: options.publicUrl,
    bodyLimitBytes: options.bodyLimitBytes,
    logger: options.logger,
    servesTenant: options.servesTenant,
  });
  // Fail at start, not at the first call, if the WSDL cannot be read.
  await soapRouter.ready;
  app.use(soapRouter);
  app.use(
    createRestRouter(options.handler, {
      bodyLimitBytes: options.bodyLimitBytes,
      contentType: options.restContentType,
    }),
  );
  for (const router of options.extraRouters ?? []) app.use(router);

  app.use((_request: Request, response: Response) => {
    response.status(404).json({ error: 'not found' });
  });
  app.use((error: unknown, request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    options.logger.error({ err: error, path: request.path }, 'unhandled HTTP error');
    const status = (error as { status?: number }).status ?? 500;
    response.status(status >= 400 && status < 600 ? status : 500).json({ error: 'request failed' });
  });
  return app;
}
