import type { Command } from 'commander';
import { CisReceiver } from '../cis-receiver/cis-receiver';
import { createLogger } from '../logger';

/**
 * `cnmcsp cis-receiver`: the reference CIS receiver (src/cis-receiver) as a server of its own,
 * for a demo or a manual test of a tenant's push settings. Runs until interrupted.
 */
export function registerCisReceiverCommand(program: Command): void {
  program
    .command('cis-receiver')
    .description('run the reference CIS receiver of pushes (REST and SOAP, docs/cis-push.md)')
    .option('--port <port>', 'port to listen on', '9090')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--registration-code <code>', "the tenant's registration code, to verify and decrypt pushes")
    .option('--fail-rate <share>', 'answer this share of pushes 80001010 without storing them (0..1)', '0')
    .option('--delay-ms <ms>', 'wait this long before every answer', '0')
    .option('--stall', 'hold every request unanswered (end it with POST /admin/behaviour)', false)
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
      const receiver = new CisReceiver({
        registrationCode: (options.registrationCode as string | undefined) ?? process.env.CIS_REGISTRATION_CODE,
        failRate: Number(options.failRate),
        delayMs: Number(options.delayMs),
        stalled: options.stall === true,
        logger,
      });
      receiver.setFailRate(Number(options.failRate));
      await receiver.listen(Number(options.port), options.host as string);

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
