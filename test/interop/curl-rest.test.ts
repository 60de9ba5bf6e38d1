/**
 * REST as a shell script does it: curl with the spec's headers (spec §4.1: Content-Type
 * text/html;charset=utf-8, DisperseKey, MacValue), the encryption done with the `openssl` command
 * line (clients/curl/rest_call.sh), through all 13 operations in plaintext and encrypted mode
 * against the running platform.
 */
import path from 'node:path';

import type { OperationName } from '../../src/domain/operations';
import { perCallClient, tool } from '../support/interop-clients';
import { describeInteropClient } from '../support/interop-lanes';

const SCRIPT = path.resolve(__dirname, '../../clients/curl/rest_call.sh');

describeInteropClient({
  file: 'curl-rest',
  title: 'a CIS calling REST with curl',
  requirements: [tool('bash'), tool('curl'), tool('openssl'), tool('od')],
  lanes: [
    {
      columnId: 'curl-rest',
      title: 'curl REST',
      transport: 'rest',
      start: ({ restUrl, registrationCode }) =>
        perCallClient('bash', (operation) => [
          SCRIPT,
          restUrl(operation as OperationName),
          operation,
          registrationCode,
        ]),
    },
  ],
});
