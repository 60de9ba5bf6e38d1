import type { Command } from 'commander';
import { CisReceiver } from '../cis-receiver/cis-receiver';
import { createLogger } from '../logger';
import { decimalNumber, nonBlankText, wholeNumber } from './option-parsers';

/**
 * `cnmcsp cis-receiver`: the reference CIS receiver (src/cis-receiver) as a server of its own,
 * for a demo or a manual test of a tenant's push settings. Runs until interrupted.
 */
export function registerCisReceiverCommand(program: Command): void {
  program
    .command('cis-receiver')
    .description('run the reference CIS receiver of pushes (REST and SOAP, docs/cis-push.md)')
    .option('--port <port>', 'port to listen on, 0 (any free one) to 65535', wholeNumber(0, 65_535), 9090)
    .option('--host <host>', 'address to listen on', nonBlankText(255), '127.0.0.1')
    .option('--registration-code <code>', "the tenant's registration code, to verify and decrypt pushes")
    .option('--fail-rate <share>', 'answer this share of pushes 80001010 without storing them (0..1)', decimalNumber(0, 1), 0)
    .option('--delay-ms <ms>', 'wait this long before every answer, 0 to 600000', wholeNumber(0, 600_000), 0)
    .option('--stall', 'hold every request unanswered (end it with POST /admin/behaviour)', false)
    .action(async (options: CisReceiverOptions) => {
      const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
      const receiver = new CisReceiver({
        registrationCode: options.registrationCode ?? process.env.CIS_REGISTRATION_CODE,
        failRate: options.failRate,
        delayMs: options.delayMs,
        stalled: options.stall,
        logger,
      });
      receiver.setFailRate(options.failRate);
      await receiver.listen(options.port, options.host);

      console.log(
        [
          `reference CIS receiver listening on ${receiver.url}`,
          `  REST readings: ${receiver.restReadingUrl}`,
          `  REST alarms:   ${receiver.restAlarmUrl}`,
          `  SOAP:          ${receiver.soapUrl}   (WSDL: ${receiver.soapUrl}?wsdl)`,
          `  admin:         GET ${receiver.url}/admin/stats, GET /admin/received, POST /admin/behaviour, POST /admin/reset`,
        ].join('\n'),
      );

      let last = '';
      const report = setInterval(() => {
        const line = JSON.stringify(receiver.statistics());
        if (line !== last) logger.info(receiver.statistics(), 'pushes received');
        last = line;
      }, 5_000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(report);
      await receiver.close();
    });
}

interface CisReceiverOptions {
  port: number;
  host: string;
  registrationCode?: string;
  failRate: number;
  delayMs: number;
  stall: boolean;
}
