import { DtuTypeEntity, MeterModelEntity, MeterProtocolEntity } from './catalogue.entity';
import { CustomerEntity } from './customer.entity';
import { InterfaceCallEntity } from './interface-call.entity';
import { LedgerEntryEntity } from './ledger-entry.entity';
import { MeterCommandEntity } from './meter-command.entity';
import { MeterSnapshotEntity } from './meter-snapshot.entity';
import { MeterEntity } from './meter.entity';
import { PriceSchemeEntity } from './price-scheme.entity';
import { TenantEntity } from './tenant.entity';

export * from './catalogue.entity';
export * from './customer.entity';
export * from './interface-call.entity';
export * from './ledger-entry.entity';
export * from './meter-command.entity';
export * from './meter-snapshot.entity';
export * from './meter.entity';
export * from './price-scheme.entity';
export * from './tenant.entity';

export const ENTITIES = [
  TenantEntity,
  MeterModelEntity,
  MeterProtocolEntity,
  DtuTypeEntity,
  CustomerEntity,
  MeterEntity,
  PriceSchemeEntity,
  LedgerEntryEntity,
  MeterCommandEntity,
  MeterSnapshotEntity,
  InterfaceCallEntity,
];
