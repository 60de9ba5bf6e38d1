// The CNMCSP message crypto (interface spec §4; docs/security.md) for a C# customer service
// system: 3DES-CBC for EncryptData, the ISO/IEC 9797-1 algorithm 3 (retail) MAC for MacValue,
// session keys diversified from the registration code by the DisperseKey.
//
// Only System.Security.Cryptography is used. Builds with mono's mcs (C# 7) and .NET Framework.
//
// .NET refuses some DES keys, and this file works around what it can:
// - a TripleDES key whose halves are equal (K1 == K2, ignoring parity bits) is refused, yet two-key
//   3DES with equal halves is exactly single DES under K1, so such keys run on the DES class;
// - a DES weak or semi-weak key (16 of the 2^56 keys) is refused by DES and, in mono, also as
//   either half of a TripleDES key. A derived session key has such a half with probability about
//   2^-50 per message; the call then throws CryptographicException. A registration code whose
//   master keys contain such a half cannot be used from .NET at all.

using System;
using System.Security.Cryptography;
using System.Text;

namespace Cnmcsp
{
    /// <summary>A message that failed verification, with the platform's ReturnCode.</summary>
    public sealed class CnmcspCryptoException : Exception
    {
        /// <summary>MAC 校验失败: MacValue wrong or malformed, or DisperseKey malformed.</summary>
        public const int MacCheckFailed = 80003001;

        /// <summary>密文解密失败: EncryptData not Base64, not whole blocks, bad padding or UTF-8.
        /// </summary>
        public const int DecryptFailed = 80003002;

        public CnmcspCryptoException(int code, string message) : base(message)
        {
            Code = code;
        }

        public int Code { get; private set; }
    }

    public static class CnmcspCrypto
    {
        private const int BlockSize = 8;

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>A fresh DisperseKey: 16 uniformly random decimal digits.</summary>
        public static string GenerateDisperseKey()
        {
            var digits = new StringBuilder(16);
            var draw = new byte[1];
            using (var random = RandomNumberGenerator.Create())
            {
                while (digits.Length < 16)
                {
                    random.GetBytes(draw);

                    // 250 is the largest multiple of 10 that fits a byte: rejecting 250..255 keeps
                    // every digit equally likely.
                    if (draw[0] < 250)
                    {
                        digits.Append((char)('0' + draw[0] % 10));
                    }
                }
            }

            return digits.ToString();
        }

        /// <summary>
        /// Encrypts a JSON payload. Returns EncryptData; MacValue comes out through macValue.
        /// Send both with the same disperseKey, which must be fresh for every message.
        /// </summary>
        public static string Encrypt(
            string registrationCode, string disperseKey, string json, out string macValue)
        {
            byte[] encryptionMasterKey;
            byte[] macMasterKey;
            ParseRegistrationCode(registrationCode, out encryptionMasterKey, out macMasterKey);
            if (!IsValidDisperseKey(disperseKey))
            {
                throw new ArgumentException(
                    "A DisperseKey must be exactly 16 decimal digits.", "disperseKey");
            }

            byte[] sessionEncryptionKey = DeriveSessionKey(encryptionMasterKey, disperseKey);
            byte[] sessionMacKey = DeriveSessionKey(macMasterKey, disperseKey);
            byte[] ciphertext = EncryptCbc(sessionEncryptionKey, StrictUtf8.GetBytes(json));

            macValue = ComputeMac(sessionMacKey, ciphertext);
            return Convert.ToBase64String(ciphertext);
        }

        /// <summary>
        /// Checks the MAC (before anything is decrypted) and returns the JSON text. Throws
        /// CnmcspCryptoException with Code MacCheckFailed or DecryptFailed when the message is bad.
        /// </summary>
        public static string VerifyAndDecrypt(
            string registrationCode, string disperseKey, string encryptData, string macValue)
        {
            byte[] encryptionMasterKey;
            byte[] macMasterKey;
            ParseRegistrationCode(registrationCode, out encryptionMasterKey, out macMasterKey);
            if (!IsValidDisperseKey(disperseKey))
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.MacCheckFailed, "DisperseKey is not 16 decimal digits.");
            }

            byte[] expectedMac = ParseHex(macValue, BlockSize);
            if (expectedMac == null)
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.MacCheckFailed, "MacValue is not 16 hexadecimal digits.");
            }

            byte[] ciphertext = DecodeStrictBase64(encryptData);
            byte[] sessionMacKey = DeriveSessionKey(macMasterKey, disperseKey);
            byte[] actualMac = ParseHex(ComputeMac(sessionMacKey, ciphertext), BlockSize);
            if (!FixedTimeEquals(actualMac, expectedMac))
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.MacCheckFailed, "MAC check failed.");
            }

            byte[] sessionEncryptionKey = DeriveSessionKey(encryptionMasterKey, disperseKey);
            byte[] plaintext = DecryptCbc(sessionEncryptionKey, ciphertext);
            try
            {
                return StrictUtf8.GetString(plaintext);
            }
            catch (DecoderFallbackException)
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.DecryptFailed, "The plaintext is not valid UTF-8.");
            }
        }

        /// <summary>
        /// Session key (PBOC / EMV option A): 3DES-ECB(MK, D) followed by
        /// 3DES-ECB(MK, D xor FF..FF), where D is the DisperseKey read as 16 hexadecimal digits.
        /// </summary>
        public static byte[] DeriveSessionKey(byte[] masterKey, string disperseKey)
        {
            RequireDoubleLengthKey(masterKey, "masterKey");
            if (!IsValidDisperseKey(disperseKey))
            {
                throw new ArgumentException(
                    "A DisperseKey must be exactly 16 decimal digits.", "disperseKey");
            }

            byte[] block = ParseHex(disperseKey, BlockSize);
            byte[] complement = new byte[BlockSize];
            for (int i = 0; i < BlockSize; i++)
            {
                complement[i] = (byte)(block[i] ^ 0xFF);
            }

            var sessionKey = new byte[2 * BlockSize];
            using (var cipher = new BlockCipher(masterKey))
            {
                Buffer.BlockCopy(cipher.Encrypt(block), 0, sessionKey, 0, BlockSize);
                Buffer.BlockCopy(cipher.Encrypt(complement), 0, sessionKey, BlockSize, BlockSize);
            }

            return sessionKey;
        }

        /// <summary>
        /// Retail MAC (ISO/IEC 9797-1 algorithm 3, ANSI X9.19): pad with 80 then 00 to whole
        /// blocks (a full block when already aligned), CBC with single DES under K1 from a zero IV,
        /// then decrypt the last block with K2 and encrypt it with K1. 16 uppercase hex digits.
        /// </summary>
        public static string ComputeMac(byte[] sessionMacKey, byte[] data)
        {
            RequireDoubleLengthKey(sessionMacKey, "sessionMacKey");
            byte[] leftKey = Slice(sessionMacKey, 0, BlockSize);
            byte[] rightKey = Slice(sessionMacKey, BlockSize, BlockSize);
            int paddedLength = (data.Length / BlockSize + 1) * BlockSize;
            var padded = new byte[paddedLength];
            Buffer.BlockCopy(data, 0, padded, 0, data.Length);
            padded[data.Length] = 0x80;

            byte[] chain = new byte[BlockSize];
            using (var left = new BlockCipher(leftKey))
            using (var right = new BlockCipher(rightKey))
            {
                for (int offset = 0; offset < paddedLength; offset += BlockSize)
                {
                    chain = left.Encrypt(Xor(chain, padded, offset));
                }

                chain = left.Encrypt(right.Decrypt(chain));
            }

            return ToHex(chain);
        }

        internal static byte[] EncryptCbc(byte[] key, byte[] plaintext)
        {
            int padding = BlockSize - plaintext.Length % BlockSize;
            var padded = new byte[plaintext.Length + padding];
            Buffer.BlockCopy(plaintext, 0, padded, 0, plaintext.Length);
            for (int i = plaintext.Length; i < padded.Length; i++)
            {
                padded[i] = (byte)padding;
            }

            var ciphertext = new byte[padded.Length];
            byte[] chain = new byte[BlockSize];
            using (var cipher = new BlockCipher(key))
            {
                for (int offset = 0; offset < padded.Length; offset += BlockSize)
                {
                    chain = cipher.Encrypt(Xor(chain, padded, offset));
                    Buffer.BlockCopy(chain, 0, ciphertext, offset, BlockSize);
                }
            }

            return ciphertext;
        }

        internal static byte[] DecryptCbc(byte[] key, byte[] ciphertext)
        {
            if (ciphertext.Length == 0 || ciphertext.Length % BlockSize != 0)
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.DecryptFailed,
                    "The ciphertext is not a whole number of 8-byte blocks.");
            }

            var padded = new byte[ciphertext.Length];
            byte[] chain = new byte[BlockSize];
            using (var cipher = new BlockCipher(key))
            {
                for (int offset = 0; offset < ciphertext.Length; offset += BlockSize)
                {
                    byte[] block = Slice(ciphertext, offset, BlockSize);
                    byte[] plainBlock = Xor(cipher.Decrypt(block), chain, 0);
                    Buffer.BlockCopy(plainBlock, 0, padded, offset, BlockSize);
                    chain = block;
                }
            }

            int padding = padded[padded.Length - 1];
            bool paddingValid = padding >= 1 && padding <= BlockSize;
            for (int i = 1; paddingValid && i <= padding; i++)
            {
                paddingValid = padded[padded.Length - i] == padding;
            }

            if (!paddingValid)
            {
                throw new CnmcspCryptoException(
                    CnmcspCryptoException.DecryptFailed, "The ciphertext has bad padding.");
            }

            return Slice(padded, 0, padded.Length - padding);
        }

        private static void ParseRegistrationCode(
            string registrationCode, out byte[] encryptionMasterKey, out byte[] macMasterKey)
        {
            byte[] bytes = ParseHex(registrationCode, 32);
            if (bytes == null)
            {
                throw new ArgumentException(
                    "A registration code must be exactly 64 hexadecimal characters.",
                    "registrationCode");
            }

            encryptionMasterKey = Slice(bytes, 0, 16);
            macMasterKey = Slice(bytes, 16, 16);
        }

        private static void RequireDoubleLengthKey(byte[] key, string name)
        {
            if (key == null || key.Length != 2 * BlockSize)
            {
                throw new ArgumentException("A double-length 3DES key must be 16 bytes.", name);
            }
        }

        private static bool IsValidDisperseKey(string disperseKey)
        {
            if (disperseKey == null || disperseKey.Length != 16)
            {
                return false;
            }

            foreach (char c in disperseKey)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            return true;
        }

        // Convert.FromBase64String skips whitespace and accepts some non-canonical forms; the
        // platform does not, so neither does this client.
        private static byte[] DecodeStrictBase64(string encryptData)
        {
            try
            {
                byte[] bytes = Convert.FromBase64String(encryptData ?? "");
                if (Convert.ToBase64String(bytes) == encryptData)
                {
                    return bytes;
                }
            }
            catch (FormatException)
            {
            }

            throw new CnmcspCryptoException(
                CnmcspCryptoException.DecryptFailed, "EncryptData is not valid Base64.");
        }

        // Compares every byte whatever the first difference, so the time taken tells nothing.
        private static bool FixedTimeEquals(byte[] left, byte[] right)
        {
            int difference = left.Length ^ right.Length;
            for (int i = 0; i < left.Length && i < right.Length; i++)
            {
                difference |= left[i] ^ right[i];
            }

            return difference == 0;
        }

        /// <summary>Hex of exactly byteCount bytes, either case; otherwise null.</summary>
        private static byte[] ParseHex(string hex, int byteCount)
        {
            if (hex == null || hex.Length != 2 * byteCount)
            {
                return null;
            }

            var bytes = new byte[byteCount];
            for (int i = 0; i < byteCount; i++)
            {
                int high = HexDigit(hex[2 * i]);
                int low = HexDigit(hex[2 * i + 1]);
                if (high < 0 || low < 0)
                {
                    return null;
                }

                bytes[i] = (byte)(high << 4 | low);
            }

            return bytes;
        }

        private static int HexDigit(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        }

        private static string ToHex(byte[] bytes)
        {
            return BitConverter.ToString(bytes).Replace("-", "");
        }

        private static byte[] Xor(byte[] block, byte[] data, int offset)
        {
            var result = new byte[BlockSize];
            for (int i = 0; i < BlockSize; i++)
            {
                result[i] = (byte)(block[i] ^ data[offset + i]);
            }

            return result;
        }

        private static byte[] Slice(byte[] bytes, int offset, int count)
        {
            var result = new byte[count];
            Buffer.BlockCopy(bytes, offset, result, 0, count);
            return result;
        }

        /// <summary>
        /// One block at a time under single DES (8-byte key) or two-key 3DES (16-byte key K1K2).
        /// CBC and padding are done by the callers, so every step is visible.
        /// </summary>
        private sealed class BlockCipher : IDisposable
        {
            private readonly SymmetricAlgorithm algorithm;
            private readonly ICryptoTransform encryptor;
            private readonly ICryptoTransform decryptor;

            public BlockCipher(byte[] key)
            {
                // E_K1(D_K2(E_K1(x))) with K1 == K2 is E_K1(x). .NET refuses such a TripleDES key
                // (TripleDES.IsWeakKey ignores parity bits, as DES does), so use DES under K1.
                if (key.Length == 16 && !TripleDES.IsWeakKey(key))
                {
                    algorithm = TripleDES.Create();
                }
                else
                {
                    algorithm = DES.Create();
                    key = Slice(key, 0, BlockSize);
                }

                algorithm.Mode = CipherMode.ECB;
                algorithm.Padding = PaddingMode.None;
                encryptor = algorithm.CreateEncryptor(key, new byte[BlockSize]);
                decryptor = algorithm.CreateDecryptor(key, new byte[BlockSize]);
            }

            // TransformFinalBlock rather than TransformBlock: some decryptors hold a block back.
            public byte[] Encrypt(byte[] block)
            {
                return encryptor.TransformFinalBlock(block, 0, BlockSize);
            }

            public byte[] Decrypt(byte[] block)
            {
                return decryptor.TransformFinalBlock(block, 0, BlockSize);
            }

            public void Dispose()
            {
                encryptor.Dispose();
                decryptor.Dispose();
                algorithm.Dispose();
            }
        }
    }
}
