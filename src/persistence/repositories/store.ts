import type { EntityManager } from 'typeorm';
import { CallLogRepository } from './call-log-repository';
import { CatalogueRepository } from './catalogue-repository';
import { CommandRepository } from './command-repository';
import { CustomerRepository } from './customer-repository';
import { LedgerRepository } from './ledger-repository';
import { MeterRepository } from './meter-repository';
import { PriceRepository } from './price-repository';
import { TenantRepository } from './tenant-repository';

/** Every repository, bound to one EntityManager: inside a transaction, all of them share it. */
export class Store {
  readonly tenants: TenantRepository;
  readonly catalogue: CatalogueRepository;
  readonly customers: CustomerRepository;
  readonly meters: MeterRepository;
  readonly prices: PriceRepository;
  readonly commands: CommandRepository;
  readonly ledger: LedgerRepository;
  readonly callLog: CallLogRepository;

  constructor(readonly manager: EntityManager) {
    this.tenants = new TenantRepository(manager);
    this.catalogue = new CatalogueRepository(manager);
    this.customers = new CustomerRepository(manager);
    this.meters = new MeterRepository(manager);
    this.prices = new PriceRepository(manager);
    this.commands = new CommandRepository(manager);
    this.ledger = new LedgerRepository(manager);
    this.callLog = new CallLogRepository(manager);
  }
}
