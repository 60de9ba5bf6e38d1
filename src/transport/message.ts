import type { OperationName } from '../domain/operations';

/** Which envelope a request came in; the payload and the service code are the same for all. */
export type Transport = 'soap11' | 'soap12' | 'rest';

/**
 * What every transport hands to the dispatcher: the three strings of spec §4 exactly as the
 * caller sent them. For SOAP they are the three parameters; for REST, `encryptData` is the body
 * and the other two are the DisperseKey and MacValue headers.
 */
export interface InboundMessage {
  transport: Transport;
  operation: OperationName;
  /** The tenant named by the path prefix `/{tenantCode}/...` (DECISIONS §3.6), if any. */
  tenantCode?: string;
  encryptData: string;
  disperseKey: string;
  macValue: string;
  /** Correlation id of this request; it appears on every log line about it. */
  requestId: string;
  /** Caller's address, for the call log. */
  remoteAddress?: string;
}

/** What the dispatcher answers; `returnCode` equals the ReturnCode inside the payload. */
export interface OutboundMessage {
  returnCode: number;
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

/** The single entry point both transports call. It never throws. */
export type MessageHandler = (message: InboundMessage) => Promise<OutboundMessage>;
