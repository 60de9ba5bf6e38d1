<?php
// The message crypto of interface spec §4 (DECISIONS §3.1-§3.3; docs/security.md) in PHP, with
// ext-openssl only. Check it against the worked example:
//
//   php -r 'require "CnmcspCrypto.php"; var_dump(CnmcspCrypto::encrypt(
//     "0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0", "3815092746153820",
//     "{\"UserID\":\"KYNYN144860\",\"MeterID\":\"012345678912\",\"DataFrom\":\"苍南仪表集团\"}"));'
//
// OpenSSL 3 offers single DES only in its legacy provider, so every single-DES step runs as
// two-key 3DES with equal halves (K‖K), which is the same cipher: E_K(D_K(E_K(x))) = E_K(x).

declare(strict_types=1);

final class CnmcspCryptoException extends RuntimeException
{
    // DECISIONS §3.8.
    public const MAC_CHECK_FAILED = 80003001;
    public const DECRYPT_FAILED = 80003002;
}

final class CnmcspCrypto
{
    private const BLOCK_SIZE = 8;
    private const ZERO_BLOCK = "\0\0\0\0\0\0\0\0";
    private const RAW_NO_PADDING = OPENSSL_RAW_DATA | OPENSSL_ZERO_PADDING;

    /** 16 decimal digits from the CSPRNG, a fresh one for every message (DECISIONS §3.1). */
    public static function generateDisperseKey(): string
    {
        $digits = '';
        for ($i = 0; $i < 16; $i++) {
            $digits .= (string) random_int(0, 9);
        }

        return $digits;
    }

    /**
     * Encrypts a JSON payload under a DisperseKey: returns [EncryptData, MacValue].
     *
     * @return array{0: string, 1: string}
     */
    public static function encrypt(string $registrationCode, string $disperseKey, string $json): array
    {
        [$encryptionMasterKey, $macMasterKey] = self::masterKeys($registrationCode);
        self::requireDisperseKey($disperseKey);

        $sessionEncryptionKey = self::deriveSessionKey($encryptionMasterKey, $disperseKey);
        $ciphertext = self::openssl(
            openssl_encrypt($json, 'des-ede-cbc', $sessionEncryptionKey, OPENSSL_RAW_DATA, self::ZERO_BLOCK)
        );
        $macValue = self::computeMac(self::deriveSessionKey($macMasterKey, $disperseKey), $ciphertext);

        return [base64_encode($ciphertext), $macValue];
    }

    /**
     * Checks the MAC (in constant time) and only then decrypts (DECISIONS §3.3). Throws
     * CnmcspCryptoException with the code of DECISIONS §3.8.
     */
    public static function verifyAndDecrypt(
        string $registrationCode,
        string $disperseKey,
        string $encryptData,
        string $macValue
    ): string {
        [$encryptionMasterKey, $macMasterKey] = self::masterKeys($registrationCode);
        if (preg_match('/^[0-9]{16}$/D', $disperseKey) !== 1
            || preg_match('/^[0-9A-Fa-f]{16}$/D', $macValue) !== 1) {
            throw new CnmcspCryptoException('DisperseKey or MacValue malformed', CnmcspCryptoException::MAC_CHECK_FAILED);
        }

        // Strict Base64: the alphabet, "=" padding, no line breaks; re-encoding must give it back.
        $ciphertext = base64_decode($encryptData, true);
        if ($ciphertext === false || base64_encode($ciphertext) !== $encryptData) {
            throw new CnmcspCryptoException('EncryptData is not strict Base64', CnmcspCryptoException::DECRYPT_FAILED);
        }

        $expected = self::computeMac(self::deriveSessionKey($macMasterKey, $disperseKey), $ciphertext);
        if (!hash_equals($expected, strtoupper($macValue))) {
            throw new CnmcspCryptoException('MAC check failed', CnmcspCryptoException::MAC_CHECK_FAILED);
        }

        if ($ciphertext === '' || strlen($ciphertext) % self::BLOCK_SIZE !== 0) {
            throw new CnmcspCryptoException('ciphertext is not whole blocks', CnmcspCryptoException::DECRYPT_FAILED);
        }
        $sessionEncryptionKey = self::deriveSessionKey($encryptionMasterKey, $disperseKey);
        $plaintext = openssl_decrypt($ciphertext, 'des-ede-cbc', $sessionEncryptionKey, OPENSSL_RAW_DATA, self::ZERO_BLOCK);
        if ($plaintext === false || preg_match('//u', $plaintext) !== 1) {
            throw new CnmcspCryptoException('bad padding or not UTF-8', CnmcspCryptoException::DECRYPT_FAILED);
        }

        return $plaintext;
    }

    /** PBOC / EMV option A: 3DES-ECB(MK, D) ‖ 3DES-ECB(MK, D xor FF..FF), D = the digits as hex. */
    public static function deriveSessionKey(string $masterKey, string $disperseKey): string
    {
        $block = hex2bin($disperseKey);

        return self::encryptBlock($masterKey, $block)
            . self::encryptBlock($masterKey, $block ^ str_repeat("\xFF", self::BLOCK_SIZE));
    }

    /**
     * ISO/IEC 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC), padding method 2, zero IV: single-DES
     * CBC under K1 over every block but the last, then one 3DES(K1K2) step on the last block xor
     * the chaining value. All 8 bytes, uppercase hex.
     */
    public static function computeMac(string $sessionMacKey, string $data): string
    {
        $padded = $data . "\x80";
        $padded .= str_repeat("\0", (self::BLOCK_SIZE - strlen($padded) % self::BLOCK_SIZE) % self::BLOCK_SIZE);
        $leading = substr($padded, 0, -self::BLOCK_SIZE);
        $last = substr($padded, -self::BLOCK_SIZE);

        $chain = self::ZERO_BLOCK;
        if ($leading !== '') {
            $firstHalf = substr($sessionMacKey, 0, self::BLOCK_SIZE);
            $output = self::openssl(
                openssl_encrypt($leading, 'des-ede-cbc', $firstHalf . $firstHalf, self::RAW_NO_PADDING, self::ZERO_BLOCK)
            );
            $chain = substr($output, -self::BLOCK_SIZE);
        }

        return strtoupper(bin2hex(self::encryptBlock($sessionMacKey, $last ^ $chain)));
    }

    /** @return array{0: string, 1: string} MKenc and MKmac (DECISIONS §3.1). */
    private static function masterKeys(string $registrationCode): array
    {
        if (preg_match('/^[0-9A-Fa-f]{64}$/D', $registrationCode) !== 1) {
            throw new InvalidArgumentException('A registration code is exactly 64 hexadecimal characters');
        }

        return [hex2bin(substr($registrationCode, 0, 32)), hex2bin(substr($registrationCode, 32))];
    }

    private static function requireDisperseKey(string $disperseKey): void
    {
        if (preg_match('/^[0-9]{16}$/D', $disperseKey) !== 1) {
            throw new InvalidArgumentException('A DisperseKey is exactly 16 decimal digits');
        }
    }

    private static function encryptBlock(string $doubleLengthKey, string $block): string
    {
        return self::openssl(openssl_encrypt($block, 'des-ede-ecb', $doubleLengthKey, self::RAW_NO_PADDING));
    }

    /** @param string|false $result */
    private static function openssl($result): string
    {
        if ($result === false) {
            throw new RuntimeException('OpenSSL failed: ' . (string) openssl_error_string());
        }

        return $result;
    }
}
