import type { JsonOutput } from '../domain/json-output';
import type { Tenant } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import type { Store } from '../persistence/repositories/store';

/** What an operation handler gets: the resolved tenant and the repositories of its transaction. */
export interface OperationContext {
  tenant: Tenant;
  requestId: string;
  store: Store;
  /** When the platform received the request. */
  receivedAt: Date;
}

/** Fields an operation adds to its response after ReturnCode and ReturnMessage. */
export type OperationResult = Record<string, JsonOutput>;

/**
 * One of the 13 operations. It throws PlatformError for every functional fault; whatever it wrote
 * is then rolled back, since each operation runs in one transaction.
 */
export type OperationHandler = (
  payload: PayloadObject,
  context: OperationContext,
) => Promise<OperationResult | void>;
