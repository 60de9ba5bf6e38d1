/**
 * The WSDL through a real .NET toolchain (DECISIONS §2.1): mono's `wsdl` (the open-source
 * wsdl.exe) generates the proxy a CIS developer gets from "Add Web Reference", and a small C#
 * program calls the SOAP router through it. Skipped with a warning where mono is missing, a
 * failure when CNMCSP_REQUIRE_INTEROP=1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import express from 'express';

import { OPERATION_NAMES } from '../../src/domain/operations';
import type { InboundMessage, OutboundMessage } from '../../src/transport/message';
import { createSoapRouter } from '../../src/transport/soap';
import { describeIfTools, retryAfterRuntimeCrash, runMono } from '../support/interop';

const run = promisify(execFile);

const received: InboundMessage[] = [];
const ANSWER_KEY = '9876543210987654';

/** Answers depend on what came in, so that the round trip shows in the program's output. */
async function recordingHandler(message: InboundMessage): Promise<OutboundMessage> {
  received.push(message);
  return {
    returnCode: message.operation === 'MeterAdd' ? 80002013 : 0,
    encryptData: `${message.operation} 应答: ${message.encryptData}`,
    disperseKey: ANSWER_KEY,
    macValue: `MAC-${message.operation}`,
  };
}

/** Two calls over SOAP 1.1 as the generated proxy makes them, a third switched to SOAP 1.2. */
const PROGRAM = `
using System;
using System.Text;
using System.Web.Services.Protocols;

class Program {
  static void Call(string name, Func<string[], int> call) {
    string[] values = { "{\\"DataFrom\\":\\"苍南仪表集团\\",\\"Note\\":\\"<&>\\"}", "3815092746153820",
      "7D71D4B825462534" };
    int result = call(values);
    Console.WriteLine(name + "|" + result + "|" + values[0] + "|" + values[1] + "|" + values[2]);
  }

  static void Main(string[] args) {
    Console.OutputEncoding = new UTF8Encoding(false);
    var service = new WebReference.WSI_MIDDataServices();
    Call("MeterAdd", v => service.MeterAdd(ref v[0], ref v[1], ref v[2]));
    Call("ReadCurrentData", v => service.ReadCurrentData(ref v[0], ref v[1], ref v[2]));
    service.SoapVersion = SoapProtocolVersion.Soap12;
    Call("ControlValve", v => service.ControlValve(ref v[0], ref v[1], ref v[2]));
  }
}
`;

const SENT = {
  encryptData: '{"DataFrom":"苍南仪表集团","Note":"<&>"}',
  disperseKey: '3815092746153820',
  macValue: '7D71D4B825462534',
};

const TOOLS = ['mono', 'mcs', 'wsdl'];

describeIfTools(TOOLS, 'the WSDL in mono (wsdl.exe and SoapHttpClientProtocol)', () => {
  let server: http.Server;
  let endpointUrl: string;
  let directory: string;
  let proxySource: string;

  beforeAll(async () => {
    const router = createSoapRouter(recordingHandler, { bodyLimitBytes: 1024 * 1024 });
    await router.ready;
    server = http.createServer(express().use(router));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    endpointUrl = `http://127.0.0.1:${port}/WSI_MIDDataServices.asmx`;
    directory = mkdtempSync(path.join(tmpdir(), 'mono-wsdl-'));

    // Asynchronous on purpose: the tool fetches the WSDL from this very process.
    await run('wsdl', ['-out:Proxy.cs', '-n:WebReference', `${endpointUrl}?wsdl`], {
      cwd: directory,
    });
    proxySource = readFileSync(path.join(directory, 'Proxy.cs'), 'utf8');
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  test('wsdl generates int Op(ref string ×3) for all 13 operations, at the served address', () => {
    const parameters = 'ref string EncryptData, ref string DisperseKey, ref string MacValue';
    for (const operation of OPERATION_NAMES) {
      expect(proxySource).toContain(`public int ${operation}(${parameters})`);
    }
    expect(proxySource).toContain('public partial class WSI_MIDDataServices');
    expect(proxySource).toContain(`this.Url = "${endpointUrl}";`);
  });

  test('the proxy compiles, and a program calls the service through it', async () => {
    await run('mcs', ['-target:library', '-r:System.Web.Services', '-out:Proxy.dll', 'Proxy.cs'], {
      cwd: directory,
    });
    writeFileSync(path.join(directory, 'Program.cs'), PROGRAM, 'utf8');
    const references = ['-r:Proxy.dll', '-r:System.Web.Services', '-codepage:utf8'];
    await run('mcs', [...references, '-out:Program.exe', 'Program.cs'], { cwd: directory });

    // The recording handler is stateless, so a rerun after a crash of mono only starts a fresh record.
    const stdout = await retryAfterRuntimeCrash(() => {
      received.length = 0;
      return runMono(['Program.exe'], { cwd: directory });
    });

    expect(stdout.trim().split('\n')).toEqual([
      printedLine('MeterAdd', 80002013),
      printedLine('ReadCurrentData', 0),
      printedLine('ControlValve', 0),
    ]);
    expect(received.map(({ transport, operation }) => `${transport} ${operation}`)).toEqual([
      'soap11 MeterAdd',
      'soap11 ReadCurrentData',
      'soap12 ControlValve',
    ]);
    for (const message of received) expect(message).toMatchObject(SENT);
  }, 120_000);
});

/** What the program prints for a call: operation, OpResult, then the ref strings as returned. */
function printedLine(operation: string, result: number): string {
  const answered = [`${operation} 应答: ${SENT.encryptData}`, ANSWER_KEY, `MAC-${operation}`];
  return [operation, String(result), ...answered].join('|');
}
