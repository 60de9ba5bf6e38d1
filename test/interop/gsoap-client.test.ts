/**
 * A C++ CIS on gSOAP: `wsdl2h` reads the live ?wsdl (with -N, one proxy class per binding: SOAP
 * 1.1 and SOAP 1.2), `soapcpp2` generates the proxies and serializers, g++ compiles them with
 * clients/gsoap (crypto with OpenSSL's libcrypto), and the program calls all 13 operations in
 * plaintext and encrypted mode against the running platform.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { file, startLineClient, tool } from '../support/interop-clients';
import { describeInteropClient, type Lane } from '../support/interop-lanes';

const run = promisify(execFile);
const SOURCES = path.resolve(__dirname, '../../clients/gsoap');
const GSOAP_IMPORT = '/usr/share/gsoap/import';

const lane = (version: '1.1' | '1.2'): Lane => ({
  columnId: version === '1.1' ? 'gsoap-soap11' : 'gsoap-soap12',
  title: `gSOAP C++ SOAP ${version}`,
  transport: version === '1.1' ? 'soap11' : 'soap12',
  start: ({ work, endpointUrl, registrationCode }) =>
    startLineClient(path.join(work, 'interop_caller'), [endpointUrl, version, registrationCode]),
});

describeInteropClient({
  file: 'gsoap-client',
  title: 'a C++ CIS calling through gSOAP proxies generated from the WSDL',
  requirements: [
    tool('wsdl2h'),
    tool('soapcpp2'),
    tool('g++'),
    file('/usr/include/stdsoap2.h', 'libgsoap-dev'),
    file('/usr/include/openssl/evp.h', 'libssl-dev'),
    file(GSOAP_IMPORT, 'gsoap'),
  ],
  async prepare({ wsdlUrl, work }) {
    await run('wsdl2h', ['-Nsrv', '-o', 'cnmcsp.h', wsdlUrl], { cwd: work });
    await run('soapcpp2', ['-j', '-C', '-x', '-L', `-I${GSOAP_IMPORT}`, 'cnmcsp.h'], { cwd: work });

    // One object file per source, two at a time, then the link.
    const sources = [
      'soapC.cpp',
      'soapWSI_USCOREMIDDataServicesSoapProxy.cpp',
      'soapWSI_USCOREMIDDataServicesSoap12Proxy.cpp',
      path.join(SOURCES, 'interop_caller.cpp'),
      path.join(SOURCES, 'cnmcsp_crypto.cpp'),
    ];
    const objects = sources.map((source) => `${path.basename(source, '.cpp')}.o`);
    const compile = (index: number) =>
      run('g++', ['-std=c++11', '-O0', '-I.', '-c', `${sources[index]}`, '-o', `${objects[index]}`], { cwd: work });
    await Promise.all([compile(0), compile(1)]);
    await Promise.all([compile(2), compile(3)]);
    await compile(4);
    await run('g++', ['-o', 'interop_caller', ...objects, '-lgsoap++', '-lcrypto'], { cwd: work });
  },
  lanes: [lane('1.1'), lane('1.2')],
});
