import type { OperationName } from '../domain/operations';
import { meterAdd, meterDelete, meterModify, meterResume, meterSuspend } from './account-service';
import { meterChange } from './meter-change-service';
import { cancelRecharge, recharge, remainOption } from './money-service';
import type { OperationHandler } from './operation';
import { batchChangePrice, changePrice } from './price-service';
import { readCurrentData } from './reading-service';
import { controlValve } from './valve-service';

export interface OperationDefinition {
  handler: OperationHandler;
  /** Every operation but ReadCurrentData names its tenant in `DataFrom` (spec §5.3). */
  dataFromRequired: boolean;
}

export const OPERATION_REGISTRY: Record<OperationName, OperationDefinition> = {
  MeterAdd: { handler: meterAdd, dataFromRequired: true },
  MeterModify: { handler: meterModify, dataFromRequired: true },
  MeterDelete: { handler: meterDelete, dataFromRequired: true },
  MeterSuspend: { handler: meterSuspend, dataFromRequired: true },
  MeterResume: { handler: meterResume, dataFromRequired: true },
  MeterChange: { handler: meterChange, dataFromRequired: true },
  ReadCurrentData: { handler: readCurrentData, dataFromRequired: false },
  Recharge: { handler: recharge, dataFromRequired: true },
  CancelRecharge: { handler: cancelRecharge, dataFromRequired: true },
  ChangePrice: { handler: changePrice, dataFromRequired: true },
  BatchChangePrice: { handler: batchChangePrice, dataFromRequired: true },
  ControlValve: { handler: controlValve, dataFromRequired: true },
  RemainOption: { handler: remainOption, dataFromRequired: true },
};
