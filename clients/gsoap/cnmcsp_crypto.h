// The message crypto of interface spec §4 (DECISIONS §3.1-§3.3; docs/security.md) in C++ with
// OpenSSL's libcrypto (EVP), for the gSOAP client of interop_caller.cpp.
#ifndef CNMCSP_CRYPTO_H
#define CNMCSP_CRYPTO_H

#include <stdexcept>
#include <string>

namespace cnmcsp {

/// A message that fails the checks of DECISIONS §3.3; code() is its code of DECISIONS §3.8.
class CryptoError : public std::runtime_error {
 public:
  static const int kMacCheckFailed = 80003001;
  static const int kDecryptFailed = 80003002;

  CryptoError(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

/// 16 decimal digits from OpenSSL's CSPRNG, a fresh one for every message (DECISIONS §3.1).
std::string GenerateDisperseKey();

/// EncryptData of a JSON payload (UTF-8 bytes) under this DisperseKey; its MacValue in `mac`.
std::string Encrypt(const std::string &registration_code, const std::string &disperse_key,
                    const std::string &json, std::string *mac);

/// Checks the MAC in constant time, then decrypts (DECISIONS §3.3). Throws CryptoError.
std::string VerifyAndDecrypt(const std::string &registration_code, const std::string &disperse_key,
                             const std::string &encrypt_data, const std::string &mac_value);

}  // namespace cnmcsp

#endif
