import type { CommandKind } from '../persistence/entities';

/**
 * How long a queued command may wait for its meter before it is given up as `expired`, per kind
 * (issue 5). The spec is silent; these are the platform's choices:
 *
 * - a valve order is stale after a day: by then the customer may have paid or the CIS changed its
 *   mind, and an old "close" arriving days later would cut gas for no current reason;
 * - account, money and price commands wait 30 days. A meter silent that long needs a technician;
 *   the command then shows as expired (`cnmcsp command list --state expired`) and the ledger still
 *   holds the money, so nothing is lost silently.
 *
 * Measured from the command's creation. Only queued commands expire: a sent one ends by its
 * acknowledgement or by running out of attempts (`failed`). An explicit `expires_at` on the row
 * wins over the policy.
 */
export const COMMAND_EXPIRY_SECONDS: Record<CommandKind, number> = {
  open_account: 30 * 24 * 3600,
  recharge: 30 * 24 * 3600,
  price_change: 30 * 24 * 3600,
  valve: 24 * 3600,
  remain_option: 30 * 24 * 3600,
  close_account: 30 * 24 * 3600,
};

/** The delivery settings of one platform process (from the environment, see config.ts). */
export interface LinkSettings {
  /** A sent command not acknowledged within this is sent again at the meter's next wake-up. */
  ackTimeoutSeconds: number;
  /** Sends per command, the first included; after the last one times out it is `failed`. */
  maxAttempts: number;
  /** How often the whole queue is swept and this process's heartbeat refreshed. */
  sweepIntervalSeconds: number;
}

export const DEFAULT_LINK_SETTINGS: LinkSettings = {
  ackTimeoutSeconds: 300,
  maxAttempts: 5,
  sweepIntervalSeconds: 30,
};

/** The expiry policy as the two parallel arrays the queue SQL takes ($kinds, $seconds). */
export function expiryParameters(): [string[], number[]] {
  const kinds = Object.keys(COMMAND_EXPIRY_SECONDS) as CommandKind[];
  return [kinds, kinds.map((kind) => COMMAND_EXPIRY_SECONDS[kind])];
}
