"""The message crypto of interface spec §4 (DECISIONS §3.1-§3.3; docs/security.md) in Python,
with PyCryptodome (Debian: python3-pycryptodome, imported as ``Cryptodome``).

Check it against the worked example::

    python3 cnmcsp_crypto.py

PyCryptodome refuses a 3DES key whose halves are equal (it "degenerates to single DES"); such a
key is single DES under its first half, which is what is used then.
"""

import base64
import binascii
import hmac
import re
import secrets

from Cryptodome.Cipher import DES, DES3

BLOCK_SIZE = 8
ZERO_BLOCK = bytes(BLOCK_SIZE)

# DECISIONS §3.8.
MAC_CHECK_FAILED = 80003001
DECRYPT_FAILED = 80003002

_REGISTRATION_CODE = re.compile(r"[0-9A-Fa-f]{64}")
_DISPERSE_KEY = re.compile(r"[0-9]{16}")
_MAC_VALUE = re.compile(r"[0-9A-Fa-f]{16}")


class CnmcspCryptoError(Exception):
    """A message that fails the checks of DECISIONS §3.3; ``code`` is its §3.8 code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def generate_disperse_key():
    """16 decimal digits from the CSPRNG, a fresh one for every message (DECISIONS §3.1)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(16))


def master_keys(registration_code):
    """MKenc and MKmac: characters 1-32 and 33-64 of the registration code (DECISIONS §3.1)."""
    if not _REGISTRATION_CODE.fullmatch(registration_code):
        raise ValueError("a registration code is exactly 64 hexadecimal characters")
    raw = bytes.fromhex(registration_code)
    return raw[:16], raw[16:]


def derive_session_key(master_key, disperse_key):
    """PBOC / EMV option A: 3DES-ECB(MK, D) ‖ 3DES-ECB(MK, D xor FF..FF), D = the digits as hex."""
    block = bytes.fromhex(disperse_key)
    complement = bytes(byte ^ 0xFF for byte in block)
    return _encrypt_block(master_key, block) + _encrypt_block(master_key, complement)


def encrypt(registration_code, disperse_key, json_text):
    """Returns (EncryptData, MacValue) for a JSON payload under this DisperseKey."""
    if not _DISPERSE_KEY.fullmatch(disperse_key):
        raise ValueError("a DisperseKey is exactly 16 decimal digits")
    encryption_key, mac_key = master_keys(registration_code)

    plaintext = json_text.encode("utf-8")
    padding = BLOCK_SIZE - len(plaintext) % BLOCK_SIZE
    padded = plaintext + bytes([padding]) * padding
    ciphertext = _cbc(derive_session_key(encryption_key, disperse_key)).encrypt(padded)

    mac_value = compute_mac(derive_session_key(mac_key, disperse_key), ciphertext)
    return base64.b64encode(ciphertext).decode("ascii"), mac_value


def verify_and_decrypt(registration_code, disperse_key, encrypt_data, mac_value):
    """Checks the MAC in constant time, then decrypts (DECISIONS §3.3)."""
    encryption_key, mac_key = master_keys(registration_code)
    if not _DISPERSE_KEY.fullmatch(disperse_key) or not _MAC_VALUE.fullmatch(mac_value):
        raise CnmcspCryptoError(MAC_CHECK_FAILED, "DisperseKey or MacValue malformed")

    try:
        ciphertext = base64.b64decode(encrypt_data, validate=True)
    except binascii.Error:
        raise CnmcspCryptoError(DECRYPT_FAILED, "EncryptData is not Base64") from None
    if base64.b64encode(ciphertext).decode("ascii") != encrypt_data:
        raise CnmcspCryptoError(DECRYPT_FAILED, "EncryptData is not strict Base64")

    expected = compute_mac(derive_session_key(mac_key, disperse_key), ciphertext)
    if not hmac.compare_digest(expected, mac_value.upper()):
        raise CnmcspCryptoError(MAC_CHECK_FAILED, "MAC check failed")

    if not ciphertext or len(ciphertext) % BLOCK_SIZE:
        raise CnmcspCryptoError(DECRYPT_FAILED, "ciphertext is not whole blocks")
    padded = _cbc(derive_session_key(encryption_key, disperse_key)).decrypt(ciphertext)
    padding = padded[-1]
    if not 1 <= padding <= BLOCK_SIZE or padded[-padding:] != bytes([padding]) * padding:
        raise CnmcspCryptoError(DECRYPT_FAILED, "bad padding")
    try:
        return padded[:-padding].decode("utf-8")
    except UnicodeDecodeError:
        raise CnmcspCryptoError(DECRYPT_FAILED, "plaintext is not UTF-8") from None


def compute_mac(session_mac_key, data):
    """ISO/IEC 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC), padding method 2, zero IV:
    single-DES CBC under K1 over all blocks, then decrypt with K2 and encrypt with K1."""
    padded = data + b"\x80"
    padded += bytes(-len(padded) % BLOCK_SIZE)
    first_half, second_half = session_mac_key[:8], session_mac_key[8:]

    chained = DES.new(first_half, DES.MODE_CBC, iv=ZERO_BLOCK).encrypt(padded)[-BLOCK_SIZE:]
    unwound = DES.new(second_half, DES.MODE_ECB).decrypt(chained)
    return DES.new(first_half, DES.MODE_ECB).encrypt(unwound).hex().upper()


def _encrypt_block(double_length_key, block):
    if double_length_key[:8] == double_length_key[8:]:
        return DES.new(double_length_key[:8], DES.MODE_ECB).encrypt(block)
    return DES3.new(double_length_key, DES3.MODE_ECB).encrypt(block)


def _cbc(double_length_key):
    if double_length_key[:8] == double_length_key[8:]:
        return DES.new(double_length_key[:8], DES.MODE_CBC, iv=ZERO_BLOCK)
    return DES3.new(double_length_key, DES3.MODE_CBC, iv=ZERO_BLOCK)


if __name__ == "__main__":
    code = "0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0"
    payload = '{"UserID":"KYNYN144860","MeterID":"012345678912","DataFrom":"苍南仪表集团"}'
    encrypt_data, mac = encrypt(code, "3815092746153820", payload)
    print("EncryptData:", encrypt_data)
    print("MacValue:", mac)
    assert verify_and_decrypt(code, "3815092746153820", encrypt_data, mac) == payload
