<?php
// A PHP CIS calling the platform with ext-soap's SoapClient in WSDL mode, as a legacy PHP
// integration does; the platform's interop tests drive it (test/interop/php-soapclient.test.ts).
//
//   php interop_caller.php <wsdlUrl> <1.1|1.2> [<registrationCode>]
//
// Reads "Operation<TAB>JSON payload" lines on stdin. Without a registration code the payload
// travels in plaintext (DECISIONS §3.5); with one it is encrypted under a fresh DisperseKey
// (CnmcspCrypto.php), and the answer's MAC is verified before it is decrypted. Writes one line
// per call:
//
//   Operation<TAB>OpResult<TAB>kind<TAB>answer DisperseKey<TAB>sent DisperseKey<TAB>answer JSON
//
// kind: "plain" (the answer came in plaintext), "verified" (MAC checked, then decrypted),
// "refused <code>" (the answer failed the check; DECISIONS §3.8) or "fault <message>".

declare(strict_types=1);

require __DIR__ . '/CnmcspCrypto.php';

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('default_socket_timeout', '60');

function main(array $argv): int
{
    if (count($argv) < 3) {
        fwrite(STDERR, "usage: php interop_caller.php <wsdlUrl> <1.1|1.2> [<registrationCode>]\n");
        return 2;
    }
    [, $wsdlUrl, $version] = $argv;
    $registrationCode = $argv[3] ?? '';

    $client = new SoapClient($wsdlUrl, [
        'soap_version' => $version === '1.2' ? SOAP_1_2 : SOAP_1_1,
        'encoding' => 'UTF-8',
        'exceptions' => true,
        'trace' => false,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'keep_alive' => true,
    ]);

    while (($line = fgets(STDIN)) !== false) {
        $line = rtrim($line, "\r\n");
        if (trim($line) === '') {
            continue;
        }
        [$operation, $payload] = explode("\t", $line, 2);
        fwrite(STDOUT, implode("\t", call($client, $operation, $payload, $registrationCode)) . "\n");
        fflush(STDOUT);
    }

    return 0;
}

/** @return list<string> */
function call(SoapClient $client, string $operation, string $payload, string $registrationCode): array
{
    $sentDisperseKey = '';
    $macValue = '';
    $encryptData = $payload;
    if ($registrationCode !== '') {
        $sentDisperseKey = CnmcspCrypto::generateDisperseKey();
        [$encryptData, $macValue] = CnmcspCrypto::encrypt($registrationCode, $sentDisperseKey, $payload);
    }

    try {
        $response = $client->__soapCall($operation, [[
            'EncryptData' => $encryptData,
            'DisperseKey' => $sentDisperseKey,
            'MacValue' => $macValue,
        ]]);
    } catch (SoapFault $fault) {
        return [$operation, '', 'fault ' . oneLine($fault->getMessage()), '', $sentDisperseKey, ''];
    }

    $result = (string) $response->{$operation . 'Result'};
    $answer = (string) ($response->EncryptData ?? '');
    $answerDisperseKey = (string) ($response->DisperseKey ?? '');
    $answerMac = (string) ($response->MacValue ?? '');
    if ($answerDisperseKey === '' && $answerMac === '') {
        return [$operation, $result, 'plain', '', $sentDisperseKey, oneLine($answer)];
    }
    if ($registrationCode === '') {
        return [$operation, $result, 'refused encrypted answer to a plaintext request', $answerDisperseKey, '', ''];
    }

    try {
        $json = CnmcspCrypto::verifyAndDecrypt($registrationCode, $answerDisperseKey, $answer, $answerMac);
    } catch (CnmcspCryptoException $error) {
        return [$operation, $result, 'refused ' . $error->getCode(), $answerDisperseKey, $sentDisperseKey, ''];
    }

    return [$operation, $result, 'verified', $answerDisperseKey, $sentDisperseKey, oneLine($json)];
}

function oneLine(string $text): string
{
    return str_replace(["\t", "\r", "\n"], ' ', $text);
}

exit(main($argv));
