// DECISIONS §3.1-§3.3 with OpenSSL's EVP interface. OpenSSL 3 offers single DES only in its
// legacy provider, so every single-DES step runs as two-key 3DES with equal halves (K‖K), which
// is the same cipher: E_K(D_K(E_K(x))) = E_K(x).
#include "cnmcsp_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <memory>
#include <vector>

namespace cnmcsp {
namespace {

typedef std::vector<unsigned char> Bytes;

const size_t kBlockSize = 8;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX *context) const { EVP_CIPHER_CTX_free(context); }
};

/// One EVP pass; `padding` is PKCS#7 on encryption and its check on decryption.
Bytes Run(const EVP_CIPHER *cipher, const Bytes &key, const Bytes &data, bool encrypt, bool padding) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter> context(EVP_CIPHER_CTX_new());
  const unsigned char zero_iv[kBlockSize] = {0};
  Bytes output(data.size() + kBlockSize);
  int written = 0;
  int final_written = 0;
  if (!context ||
      EVP_CipherInit_ex(context.get(), cipher, nullptr, key.data(), zero_iv, encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(context.get(), padding ? 1 : 0) != 1 ||
      EVP_CipherUpdate(context.get(), output.data(), &written, data.data(), static_cast<int>(data.size())) != 1) {
    throw std::runtime_error("OpenSSL cipher failed");
  }
  if (EVP_CipherFinal_ex(context.get(), output.data() + written, &final_written) != 1) {
    throw CryptoError(CryptoError::kDecryptFailed, "bad padding");
  }
  output.resize(static_cast<size_t>(written + final_written));
  return output;
}

Bytes EncryptBlock(const Bytes &double_length_key, const Bytes &block) {
  return Run(EVP_des_ede_ecb(), double_length_key, block, true, false);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsHex(const std::string &text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (HexDigit(c) < 0) return false;
  }
  return true;
}

bool IsDisperseKey(const std::string &text) {
  if (text.size() != 16) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Bytes FromHex(const std::string &hex) {
  Bytes bytes(hex.size() / 2);
  for (size_t i = 0; i < bytes.size(); i++) {
    bytes[i] = static_cast<unsigned char>(HexDigit(hex[2 * i]) << 4 | HexDigit(hex[2 * i + 1]));
  }
  return bytes;
}

std::string ToUpperHex(const Bytes &bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex += digits[byte >> 4];
    hex += digits[byte & 0x0F];
  }
  return hex;
}

void MasterKeys(const std::string &registration_code, Bytes *encryption_key, Bytes *mac_key) {
  if (!IsHex(registration_code, 64)) {
    throw std::invalid_argument("a registration code is exactly 64 hexadecimal characters");
  }
  *encryption_key = FromHex(registration_code.substr(0, 32));
  *mac_key = FromHex(registration_code.substr(32));
}

/// PBOC / EMV option A: 3DES-ECB(MK, D) ‖ 3DES-ECB(MK, D xor FF..FF), D = the digits read as hex.
Bytes DeriveSessionKey(const Bytes &master_key, const std::string &disperse_key) {
  Bytes block = FromHex(disperse_key);
  Bytes complement(block);
  for (unsigned char &byte : complement) byte ^= 0xFF;

  Bytes key = EncryptBlock(master_key, block);
  Bytes right = EncryptBlock(master_key, complement);
  key.insert(key.end(), right.begin(), right.end());
  return key;
}

/// ISO/IEC 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC), padding method 2, zero IV: single-DES
/// CBC under K1 over every block but the last, then one 3DES(K1K2) step on the last block xor
/// the chaining value. All 8 bytes, uppercase hex.
std::string ComputeMac(const Bytes &session_mac_key, const Bytes &data) {
  Bytes padded(data);
  padded.push_back(0x80);
  while (padded.size() % kBlockSize != 0) padded.push_back(0x00);

  Bytes leading(padded.begin(), padded.end() - kBlockSize);
  Bytes last(padded.end() - kBlockSize, padded.end());
  Bytes chain(kBlockSize, 0);
  if (!leading.empty()) {
    Bytes first_half(session_mac_key.begin(), session_mac_key.begin() + kBlockSize);
    Bytes single_key(first_half);
    single_key.insert(single_key.end(), first_half.begin(), first_half.end());
    Bytes output = Run(EVP_des_ede_cbc(), single_key, leading, true, false);
    chain.assign(output.end() - kBlockSize, output.end());
  }
  for (size_t i = 0; i < kBlockSize; i++) last[i] ^= chain[i];
  return ToUpperHex(EncryptBlock(session_mac_key, last));
}

std::string Base64Encode(const Bytes &bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(&text[0]), bytes.data(),
                               static_cast<int>(bytes.size()));
  text.resize(static_cast<size_t>(length));
  return text;
}

/// Strict Base64: the alphabet with "=" padding and nothing else; re-encoding must give it back.
Bytes Base64DecodeStrict(const std::string &text) {
  if (text.size() % 4 != 0) throw CryptoError(CryptoError::kDecryptFailed, "EncryptData is not Base64");
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') {
      throw CryptoError(CryptoError::kDecryptFailed, "EncryptData is not Base64");
    }
  }
  Bytes bytes(text.size() / 4 * 3 + 1);
  int length = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char *>(text.data()),
                               static_cast<int>(text.size()));
  if (length < 0) throw CryptoError(CryptoError::kDecryptFailed, "EncryptData is not Base64");
  size_t padding = 0;
  if (!text.empty() && text[text.size() - 1] == '=') padding++;
  if (text.size() > 1 && text[text.size() - 2] == '=') padding++;
  bytes.resize(static_cast<size_t>(length) - padding);  // EVP_DecodeBlock keeps the pad bytes
  if (Base64Encode(bytes) != text) {
    throw CryptoError(CryptoError::kDecryptFailed, "EncryptData is not strict Base64");
  }
  return bytes;
}

/// Lead and continuation bytes in their places (overlong forms are not looked for).
bool IsUtf8(const Bytes &bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char lead = bytes[i];
    size_t continuation;
    if (lead < 0x80) {
      continuation = 0;
    } else if ((lead & 0xE0) == 0xC0) {
      continuation = 1;
    } else if ((lead & 0xF0) == 0xE0) {
      continuation = 2;
    } else if ((lead & 0xF8) == 0xF0) {
      continuation = 3;
    } else {
      return false;
    }
    if (i + continuation >= bytes.size()) return false;
    for (size_t k = 1; k <= continuation; k++) {
      if ((bytes[i + k] & 0xC0) != 0x80) return false;
    }
    i += continuation + 1;
  }
  return true;
}

}  // namespace

std::string GenerateDisperseKey() {
  std::string digits;
  while (digits.size() < 16) {
    unsigned char byte = 0;
    if (RAND_bytes(&byte, 1) != 1) throw std::runtime_error("RAND_bytes failed");
    if (byte < 250) digits += static_cast<char>('0' + byte % 10);  // 250 = 25 * 10: no bias
  }
  return digits;
}

std::string Encrypt(const std::string &registration_code, const std::string &disperse_key,
                    const std::string &json, std::string *mac) {
  if (!IsDisperseKey(disperse_key)) throw std::invalid_argument("a DisperseKey is 16 decimal digits");
  Bytes encryption_key, mac_key;
  MasterKeys(registration_code, &encryption_key, &mac_key);

  Bytes plaintext(json.begin(), json.end());
  Bytes ciphertext = Run(EVP_des_ede_cbc(), DeriveSessionKey(encryption_key, disperse_key), plaintext, true, true);
  *mac = ComputeMac(DeriveSessionKey(mac_key, disperse_key), ciphertext);
  return Base64Encode(ciphertext);
}

std::string VerifyAndDecrypt(const std::string &registration_code, const std::string &disperse_key,
                             const std::string &encrypt_data, const std::string &mac_value) {
  Bytes encryption_key, mac_key;
  MasterKeys(registration_code, &encryption_key, &mac_key);
  if (!IsDisperseKey(disperse_key) || !IsHex(mac_value, 16)) {
    throw CryptoError(CryptoError::kMacCheckFailed, "DisperseKey or MacValue malformed");
  }

  Bytes ciphertext = Base64DecodeStrict(encrypt_data);
  std::string expected = ComputeMac(DeriveSessionKey(mac_key, disperse_key), ciphertext);
  std::string given(mac_value);
  for (char &c : given) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (CRYPTO_memcmp(expected.data(), given.data(), expected.size()) != 0) {
    throw CryptoError(CryptoError::kMacCheckFailed, "MAC check failed");
  }

  if (ciphertext.empty() || ciphertext.size() % kBlockSize != 0) {
    throw CryptoError(CryptoError::kDecryptFailed, "ciphertext is not whole blocks");
  }
  Bytes plaintext = Run(EVP_des_ede_cbc(), DeriveSessionKey(encryption_key, disperse_key), ciphertext, false, true);
  if (!IsUtf8(plaintext)) throw CryptoError(CryptoError::kDecryptFailed, "plaintext is not UTF-8");
  return std::string(plaintext.begin(), plaintext.end());
}

}  // namespace cnmcsp
