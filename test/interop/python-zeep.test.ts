/**
 * A Python CIS: zeep (python3-zeep) reads the live ?wsdl and validates every answer strictly
 * against its schema, in SOAP 1.1 and SOAP 1.2, encrypting with Cryptodome (clients/python),
 * through all 13 operations in plaintext and encrypted mode against the running platform.
 * Debian's /usr/bin/python3 on purpose: a python3 earlier on the PATH (pyenv) has no zeep.
 */
import path from 'node:path';

import { DEBIAN_PYTHON, debianPythonWith, startLineClient } from '../support/interop-clients';
import { describeInteropClient, type Lane } from '../support/interop-lanes';

const CALLER = path.resolve(__dirname, '../../clients/python/interop_caller.py');

const lane = (version: '1.1' | '1.2'): Lane => ({
  columnId: version === '1.1' ? 'zeep-soap11' : 'zeep-soap12',
  title: `Python zeep SOAP ${version}`,
  transport: version === '1.1' ? 'soap11' : 'soap12',
  start: ({ wsdlUrl, registrationCode }) =>
    startLineClient(DEBIAN_PYTHON, [CALLER, wsdlUrl, version, registrationCode], {
      // Nothing from the user's site-packages or a pyenv: the Debian packages only.
      env: { PYTHONNOUSERSITE: '1', PYTHONPATH: '' },
    }),
});

describeInteropClient({
  file: 'python-zeep',
  title: 'a Python CIS calling through zeep with strict schema validation',
  requirements: [debianPythonWith(['zeep', 'Cryptodome'])],
  lanes: [lane('1.1'), lane('1.2')],
});
