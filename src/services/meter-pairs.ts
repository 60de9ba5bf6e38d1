import { PlatformError, isPlatformError } from '../domain/errors';
import { requiredObjectArray, requiredString } from '../domain/fields';
import { MeterStates, type MeterState } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { MeterPairs, UnfitPair } from '../persistence/repositories/meter-repository';

/**
 * The `Meters` list of ReadCurrentData and BatchChangePrice (spec §5.3.7, §5.3.11): UserID/MeterID
 * pairs, all or nothing (DECISIONS §5.5). A batch answers about its first offending pair, named
 * with its position so that a CIS can find it among thousands.
 */

/** The pairs as two parallel arrays, the shape the set-based queries take them in. */
export function readMeterPairs(payload: PayloadObject): MeterPairs {
  const items = requiredObjectArray(payload, 'Meters');
  const pairs: MeterPairs = { userIds: new Array(items.length), meterIds: new Array(items.length) };

  items.forEach((item, index) => {
    try {
      pairs.userIds[index] = requiredString(item, 'UserID', 50);
      pairs.meterIds[index] = requiredString(item, 'MeterID', 50);
    } catch (error) {
      if (!isPlatformError(error)) throw error;
      throw new PlatformError(error.code, `${error.message}（Meters 第 ${index + 1} 项）`);
    }
  });
  return pairs;
}

/** 80002013 for a pair that is not the user's meter, naming it. */
export function mismatchedPairError(position: number, userId: string, meterId: string): PlatformError {
  return new PlatformError(
    ReturnCode.UserMeterMismatch,
    `表具信息 与 用户信息 匹配失败，该用户下无此表信息（Meters 第 ${position} 项：UserID ${userId}，` +
      `MeterID ${meterId}），本次请求未作任何处理`,
  );
}

/** The code of a pair's first failed check, in the order a single-meter call makes them. */
export function unfitPairError(pair: UnfitPair, allowedStates: readonly MeterState[]): PlatformError {
  if (!pair.matched) return mismatchedPairError(pair.position, pair.userId, pair.meterId);

  const where = `（Meters 第 ${pair.position} 项：UserID ${pair.userId}，MeterID ${pair.meterId}），本次请求未作任何处理`;
  if (pair.state === null || !allowedStates.includes(pair.state)) {
    const word = pair.state === MeterStates.Closed ? '已销户' : '已停用';
    return new PlatformError(
      ReturnCode.AccountClosedOrSuspended,
      `该用户是销户、报停、休户用户，无法进行接口功能操作：表具${word}${where}`,
    );
  }
  return new PlatformError(ReturnCode.NotRemoteMeter, `非远传表，无法进行远程操作${where}`);
}
