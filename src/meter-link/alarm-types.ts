/**
 * Alarm types (警报类型) the platform knows and the Chinese message it stores and pushes when a
 * meter sends a type without words of its own. spec §6.2 leaves the values to the CIS; these are
 * the platform's. A meter may send other types (upper case, digits, `_`); they are stored as sent.
 */
export const ALARM_MESSAGES: Record<string, string> = {
  LOW_BALANCE: '表内余额不足，请及时充值',
  ZERO_BALANCE: '表内余额已用尽，阀门已关闭',
  VALVE_FAULT: '阀门故障，阀门未能按指令动作',
  LOW_BATTERY: '表具电池电量低，请更换电池',
  TAMPER: '表具疑似被拆卸或干扰',
  LEAK: '疑似燃气泄漏',
};

export function alarmMessage(type: string, sent: string | null): string {
  return (sent ?? ALARM_MESSAGES[type] ?? `表具报警：${type}`).slice(0, 200);
}
