import { requiredDate, requiredString } from '../domain/fields';
import type { PayloadObject } from '../domain/payload';
import type { OperationContext } from './operation';
import { assertMeterSideBilling, lockMeterFor, statesAllowing } from './operation-guards';
import { readMeterPairs, unfitPairError } from './meter-pairs';
import { priceCommandPayload, readPriceScheme, storePriceScheme } from './price-scheme-input';

/**
 * Re-pricing (spec §5.3.10, §5.3.11; DECISIONS §5.3): the meter takes the price from now on and
 * is told with a `price_change` command, whose payload is the whole scheme (the meter bills).
 * A price never changes once stored: a known PriceID + Version with other content is 80002034.
 */

/** spec §5.3.10: one meter. */
export async function changePrice(payload: PayloadObject, context: OperationContext): Promise<void> {
  assertMeterSideBilling(context, 'ChangePrice');
  const pair = {
    userId: requiredString(payload, 'UserID', 50),
    meterId: requiredString(payload, 'MeterID', 50),
  };
  const changedAt = requiredDate(payload, 'ChangeTime', context.tenant.timeZone);
  const values = readPriceScheme(payload, context, { monthCountRequired: false });
  const meter = await lockMeterFor(context, pair, 'ChangePrice', { remote: true });

  const scheme = await storePriceScheme(context, values);
  await context.store.meters.setPrice(meter, scheme.id, changedAt);
  await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'price_change',
    payload: priceCommandPayload(scheme),
    correlationId: context.requestId,
  });
}

/**
 * spec §5.3.11: any number of meters, all or nothing (DECISIONS §5.5), in a constant number of
 * statements (issue 3): lock the named meters in id order, find the first pair that cannot take
 * the change, then re-price and queue every command in one statement. A CIS re-pricing a whole
 * town sends 100,000 pairs; this runs in seconds where a loop of per-meter calls would not.
 */
export async function batchChangePrice(payload: PayloadObject, context: OperationContext): Promise<void> {
  assertMeterSideBilling(context, 'BatchChangePrice');
  const pairs = readMeterPairs(payload);
  const changedAt = requiredDate(payload, 'ChangeTime', context.tenant.timeZone);
  const values = readPriceScheme(payload, context, { monthCountRequired: false });
  const { meters, commands } = context.store;
  const allowedStates = statesAllowing('BatchChangePrice');

  const unfit = await meters.lockAndFindFirstUnfitPair(context.tenant.id, pairs, allowedStates, true);
  if (unfit) throw unfitPairError(unfit, allowedStates);

  const scheme = await storePriceScheme(context, values);
  await commands.enqueuePriceChanges({
    tenantId: context.tenant.id,
    meterIds: pairs.meterIds,
    priceSchemeId: scheme.id,
    changedAt,
    payload: priceCommandPayload(scheme),
    correlationId: context.requestId,
  });
}
