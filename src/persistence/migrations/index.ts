import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { LedgerEntryRules1764000003000 } from './1764000003000-ledger-entry-rules';
import { MeterPriceChangedAt1764000003001 } from './1764000003001-meter-price-changed-at';
import { MeterFillFactor1764000003002 } from './1764000003002-meter-fill-factor';
import { TenantCredentials1764000004000 } from './1764000004000-tenant-credentials';
import { MeterLink1764000005000 } from './1764000005000-meter-link';
import { PushOutbox1764000006000 } from './1764000006000-push-outbox';
import { LedgerReversal1764000007000 } from './1764000007000-ledger-reversal';

/** In order. A migration, once released, is never edited: add a new one. */
export const MIGRATIONS = [
  InitialSchema1764000000000,
  LedgerEntryRules1764000003000,
  MeterPriceChangedAt1764000003001,
  MeterFillFactor1764000003002,
  TenantCredentials1764000004000,
  MeterLink1764000005000,
  PushOutbox1764000006000,
  LedgerReversal1764000007000,
];
