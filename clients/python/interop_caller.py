"""A Python CIS calling the platform through zeep (Debian: python3-zeep), which reads the live WSDL
and validates every response strictly against its schema; the platform's interop tests drive it
(test/interop/python-zeep.test.ts).

    /usr/bin/python3 interop_caller.py <wsdlUrl> <1.1|1.2> [<registrationCode>]

Reads "Operation<TAB>JSON payload" lines on stdin. Without a registration code the payload
travels in plaintext (DECISIONS §3.5); with one it is encrypted under a fresh DisperseKey
(cnmcsp_crypto.py), and the answer's MAC is verified before it is decrypted. Writes one line per
call:

    Operation<TAB>OpResult<TAB>kind<TAB>answer DisperseKey<TAB>sent DisperseKey<TAB>answer JSON

kind: "plain" (the answer came in plaintext), "verified" (MAC checked, then decrypted),
"refused <code>" (the answer failed the check; DECISIONS §3.8) or "fault <message>" (a SOAP
fault, or a response zeep refused).
"""

import sys

import zeep
import zeep.exceptions

import cnmcsp_crypto

SERVICE = "WSI_MIDDataServices"
PORTS = {"1.1": "WSI_MIDDataServicesSoap", "1.2": "WSI_MIDDataServicesSoap12"}


def main(argv):
    if len(argv) < 3 or argv[2] not in PORTS:
        print("usage: interop_caller.py <wsdlUrl> <1.1|1.2> [<registrationCode>]", file=sys.stderr)
        return 2
    # UTF-8 on both pipes, whatever the locale says (a C locale would make them ASCII).
    sys.stdin.reconfigure(encoding="utf-8")
    sys.stdout.reconfigure(encoding="utf-8")
    wsdl_url, version = argv[1], argv[2]
    registration_code = argv[3] if len(argv) > 3 else ""

    # strict=True: the response must match the schema (order, types, occurrences), no recovery.
    settings = zeep.Settings(strict=True, xsd_ignore_sequence_order=False)
    client = zeep.Client(wsdl_url, settings=settings)
    service = client.bind(SERVICE, PORTS[version])

    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        operation, payload = line.split("\t", 1)
        fields = call(service, operation, payload, registration_code)
        sys.stdout.write("\t".join(fields) + "\n")
        sys.stdout.flush()
    return 0


def call(service, operation, payload, registration_code):
    sent_disperse_key, mac_value, encrypt_data = "", "", payload
    if registration_code:
        sent_disperse_key = cnmcsp_crypto.generate_disperse_key()
        encrypt_data, mac_value = cnmcsp_crypto.encrypt(registration_code, sent_disperse_key, payload)

    try:
        response = getattr(service, operation)(
            EncryptData=encrypt_data, DisperseKey=sent_disperse_key, MacValue=mac_value
        )
    except (zeep.exceptions.Error, ValueError) as error:
        return [operation, "", "fault " + one_line(str(error)), "", sent_disperse_key, ""]

    result = str(response[operation + "Result"])
    answer = response["EncryptData"] or ""
    answer_disperse_key = response["DisperseKey"] or ""
    answer_mac = response["MacValue"] or ""
    if not answer_disperse_key and not answer_mac:
        return [operation, result, "plain", "", sent_disperse_key, one_line(answer)]
    if not registration_code:
        return [operation, result, "refused encrypted answer to a plaintext request", answer_disperse_key, "", ""]

    try:
        json_text = cnmcsp_crypto.verify_and_decrypt(
            registration_code, answer_disperse_key, answer, answer_mac
        )
    except cnmcsp_crypto.CnmcspCryptoError as error:
        return [operation, result, "refused %d" % error.code, answer_disperse_key, sent_disperse_key, ""]
    return [operation, result, "verified", answer_disperse_key, sent_disperse_key, one_line(json_text)]


def one_line(text):
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
