/**
 * A legacy PHP CIS: ext-soap's SoapClient in WSDL mode, reading the live ?wsdl, in SOAP 1.1 and
 * SOAP 1.2 (`'soap_version' => SOAP_1_2`), encrypting with openssl_* (clients/php), through all
 * 13 operations in plaintext and encrypted mode against the running platform.
 */
import path from 'node:path';

import { phpWith, startLineClient } from '../support/interop-clients';
import { describeInteropClient, type Lane } from '../support/interop-lanes';

const CALLER = path.resolve(__dirname, '../../clients/php/interop_caller.php');

const lane = (version: '1.1' | '1.2'): Lane => ({
  columnId: version === '1.1' ? 'php-soap11' : 'php-soap12',
  title: `PHP SoapClient SOAP ${version}`,
  transport: version === '1.1' ? 'soap11' : 'soap12',
  start: ({ wsdlUrl, registrationCode }) =>
    startLineClient('php', [CALLER, wsdlUrl, version, registrationCode]),
});

describeInteropClient({
  file: 'php-soapclient',
  title: 'a PHP CIS calling through SoapClient in WSDL mode',
  requirements: [phpWith(['soap', 'openssl'])],
  lanes: [lane('1.1'), lane('1.2')],
});
