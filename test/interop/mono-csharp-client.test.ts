/**
 * A .NET CIS as it integrates: mono's `wsdl` (the open-source wsdl.exe) generates the Web
 * Reference proxy from the live ?wsdl, `mcs` compiles the programs of clients/csharp against it,
 * and they call in the shape of spec §4.2 (`iRet = MidTest.Op(ref EncryptData, ref DisperseKey,
 * ref MacValue)`), over SOAP 1.1, the version a Web Reference speaks by default:
 *
 * - plaintext: PlaintextCaller.cs, through this file's story of all 13 operations;
 * - encrypted: SampleClient.cs, the sample CIS teams get, with CnmcspCrypto.cs
 *   (System.Security.Cryptography); it runs its own tour of all 13 operations on the spec's
 *   examples, each answer's MAC verified before it is decrypted.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import {
  parsePlaintextCallerLine,
  parseSampleClientLine,
  startLineClient,
  startTourClient,
  tool,
} from '../support/interop-clients';
import { describeInteropClient } from '../support/interop-lanes';

const run = promisify(execFile);
const SOURCES = path.resolve(__dirname, '../../clients/csharp');
const UTF8_LOCALE = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };

describeInteropClient({
  file: 'mono-csharp-client',
  title: 'a .NET CIS calling through the Web Reference proxy that mono generates',
  requirements: [tool('mono'), tool('mcs'), tool('wsdl')],
  async prepare({ wsdlUrl, work }) {
    await run('wsdl', ['-out:Proxy.cs', '-n:WebReference', wsdlUrl], { cwd: work });
    const compile = (program: string, sources: string[]) => {
      const files = ['Proxy.cs', ...sources.map((source) => path.join(SOURCES, source))];
      return run('mcs', ['-r:System.Web.Services', '-codepage:utf8', `-out:${program}`, ...files], { cwd: work });
    };
    await Promise.all([
      compile('PlaintextCaller.exe', ['PlaintextCaller.cs']),
      compile('SampleClient.exe', ['CnmcspCrypto.cs', 'SampleClient.cs']),
    ]);
  },
  lanes: [
    {
      columnId: 'mono-soap11',
      title: '.NET Web Reference proxy (mono) SOAP 1.1',
      transport: 'soap11',
      ownStory: (mode) => mode === 'encrypted',
      start: ({ work, endpointUrl, mode, registrationCode, dataFrom, takeExchanges }) => {
        if (mode === 'plaintext') {
          const caller = path.join(work, 'PlaintextCaller.exe');
          return startLineClient('mono', [caller, endpointUrl], { parse: parsePlaintextCallerLine });
        }
        const sample = [path.join(work, 'SampleClient.exe'), registrationCode, endpointUrl, dataFrom];
        const runSample = async () => (await run('mono', sample, { env: UTF8_LOCALE })).stdout;
        return startTourClient(runSample, parseSampleClientLine, takeExchanges);
      },
    },
  ],
});
