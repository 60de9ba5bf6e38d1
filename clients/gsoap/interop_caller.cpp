// A C++ CIS calling the platform through the proxies gSOAP generates from the live ?wsdl; the
// platform's interop tests drive it (test/interop/gsoap-client.test.ts). Build:
//
//   wsdl2h -Nsrv -o cnmcsp.h 'http://host:port/WSI_MIDDataServices.asmx?wsdl'
//   soapcpp2 -j -C -x -L -I/usr/share/gsoap/import cnmcsp.h
//   g++ -I. -o interop_caller interop_caller.cpp cnmcsp_crypto.cpp soapC.cpp \
//       soapWSI_USCOREMIDDataServicesSoapProxy.cpp soapWSI_USCOREMIDDataServicesSoap12Proxy.cpp \
//       -lgsoap++ -lcrypto
//   ./interop_caller <endpointUrl> <1.1|1.2> [<registrationCode>]
//
// -Nsrv gives each binding of the WSDL its own proxy class (SOAP 1.1 and SOAP 1.2). Reads
// "Operation<TAB>JSON payload" lines on stdin. Without a registration code the payload travels in
// plaintext (DECISIONS §3.5); with one it is encrypted under a fresh DisperseKey
// (cnmcsp_crypto.cpp), and the answer's MAC is verified before it is decrypted. Writes one line
// per call:
//
//   Operation<TAB>OpResult<TAB>kind<TAB>answer DisperseKey<TAB>sent DisperseKey<TAB>answer JSON
//
// kind: "plain", "verified", "refused <code>" (DECISIONS §3.8) or "fault <message>".
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cnmcsp_crypto.h"
#include "soapWSI_USCOREMIDDataServicesSoap12Proxy.h"
#include "soapWSI_USCOREMIDDataServicesSoapProxy.h"

// soapcpp2 -j leaves the namespace table to the program; both proxies carry their own copy too.
#include "WSI_USCOREMIDDataServicesSoap.nsmap"

namespace {

// The 13 operations of spec §5.3, in the spec's order (DECISIONS §2.1).
#define CNMCSP_OPERATIONS(X)                                                                    \
  X(MeterAdd) X(MeterModify) X(MeterDelete) X(MeterSuspend) X(MeterResume) X(MeterChange)       \
  X(ReadCurrentData) X(Recharge) X(CancelRecharge) X(ChangePrice) X(BatchChangePrice)            \
  X(ControlValve) X(RemainOption)

/// The three strings of spec §4.2 in one direction, and OpResult on the way back.
struct Message {
  std::string encrypt_data;
  std::string disperse_key;
  std::string mac_value;
  int result = 0;
};

std::string Text(const std::string *value) { return value == nullptr ? std::string() : *value; }

/// `int Op(request, response)` of the generated proxy for the operation named `operation`;
/// SOAP_NO_METHOD for a name that is none of the 13.
template <class Proxy>
int CallOperation(Proxy &proxy, const std::string &operation, Message &message) {
#define CNMCSP_CALL(Op)                                                    \
  if (operation == #Op) {                                                  \
    _tempuri__##Op request;                                                \
    _tempuri__##Op##Response response;                                     \
    request.EncryptData = &message.encrypt_data;                           \
    request.DisperseKey = &message.disperse_key;                           \
    request.MacValue = &message.mac_value;                                 \
    int status = proxy.Op(&request, response);                             \
    if (status != SOAP_OK) return status;                                  \
    message.result = response.Op##Result;                                  \
    message.encrypt_data = Text(response.EncryptData);                     \
    message.disperse_key = Text(response.DisperseKey);                     \
    message.mac_value = Text(response.MacValue);                           \
    return SOAP_OK;                                                        \
  }
  CNMCSP_OPERATIONS(CNMCSP_CALL)
#undef CNMCSP_CALL
  return SOAP_NO_METHOD;
}

std::string OneLine(std::string text) {
  for (char &c : text) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

template <class Proxy>
std::string Call(Proxy &proxy, const std::string &operation, const std::string &payload,
                 const std::string &registration_code) {
  Message message;
  message.encrypt_data = payload;
  std::string sent_disperse_key;
  if (!registration_code.empty()) {
    sent_disperse_key = cnmcsp::GenerateDisperseKey();
    message.disperse_key = sent_disperse_key;
    message.encrypt_data = cnmcsp::Encrypt(registration_code, sent_disperse_key, payload, &message.mac_value);
  }

  int status = CallOperation(proxy, operation, message);
  proxy.destroy();
  std::string head = operation + "\t";
  if (status != SOAP_OK) {
    char reason[1024] = "no such operation";
    if (status != SOAP_NO_METHOD) proxy.soap_sprint_fault(reason, sizeof reason);
    return head + "\tfault " + OneLine(reason) + "\t\t" + sent_disperse_key + "\t";
  }

  head += std::to_string(message.result) + "\t";
  if (message.disperse_key.empty() && message.mac_value.empty()) {
    return head + "plain\t\t" + sent_disperse_key + "\t" + OneLine(message.encrypt_data);
  }
  if (registration_code.empty()) {
    return head + "refused encrypted answer to a plaintext request\t" + message.disperse_key + "\t\t";
  }
  try {
    std::string json = cnmcsp::VerifyAndDecrypt(registration_code, message.disperse_key,
                                                message.encrypt_data, message.mac_value);
    return head + "verified\t" + message.disperse_key + "\t" + sent_disperse_key + "\t" + OneLine(json);
  } catch (const cnmcsp::CryptoError &error) {
    return head + "refused " + std::to_string(error.code()) + "\t" + message.disperse_key + "\t" +
           sent_disperse_key + "\t";
  }
}

/// wsdl2h imports soap12.h for a WSDL with a SOAP 1.2 binding, and every namespace table it makes
/// then names the SOAP 1.2 envelope first, so both proxies would speak SOAP 1.2. gSOAP takes the
/// envelope version from the table (struct soap::version), so the SOAP 1.1 proxy gets a copy with
/// the SOAP 1.1 URIs first and the SOAP 1.2 ones as the accepted alternatives.
std::vector<Namespace> Soap11First(const Namespace *table) {
  std::vector<Namespace> copy;
  for (const Namespace *entry = table; entry->id != nullptr; entry++) {
    Namespace changed = *entry;
    if (std::strcmp(entry->id, "SOAP-ENV") == 0) {
      changed.ns = "http://schemas.xmlsoap.org/soap/envelope/";
      changed.in = "http://www.w3.org/*/soap-envelope";
    } else if (std::strcmp(entry->id, "SOAP-ENC") == 0) {
      changed.ns = "http://schemas.xmlsoap.org/soap/encoding/";
      changed.in = "http://www.w3.org/*/soap-encoding";
    }
    copy.push_back(changed);
  }
  copy.push_back(Namespace{nullptr, nullptr, nullptr, nullptr});
  return copy;
}

template <class Proxy>
int Serve(Proxy &proxy, const std::string &registration_code) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \r") == std::string::npos) continue;
    size_t tab = line.find('\t');
    std::string operation = line.substr(0, tab);
    std::string payload = tab == std::string::npos ? std::string() : line.substr(tab + 1);
    std::cout << Call(proxy, operation, payload, registration_code) << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: interop_caller <endpointUrl> <1.1|1.2> [<registrationCode>]" << std::endl;
    return 2;
  }
  std::string endpoint = argv[1];
  std::string version = argv[2];
  std::string registration_code = argc > 3 ? argv[3] : "";
  // SOAP_C_UTFSTRING: std::string holds UTF-8 as is (gSOAP's default reads it as Latin-1).
  // SOAP_XML_STRICT: an answer that breaks the schema (order, occurrences, types) is an error.
  const soap_mode mode = SOAP_C_UTFSTRING | SOAP_XML_STRICT | SOAP_IO_KEEPALIVE;

  if (version == "1.2") {
    WSI_USCOREMIDDataServicesSoap12Proxy proxy(endpoint.c_str(), mode);
    return Serve(proxy, registration_code);
  }
  WSI_USCOREMIDDataServicesSoapProxy proxy(endpoint.c_str(), mode);
  std::vector<Namespace> namespaces = Soap11First(proxy.soap->namespaces);
  soap_set_namespaces(proxy.soap, namespaces.data());
  return Serve(proxy, registration_code);
}
