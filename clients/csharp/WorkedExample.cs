// Prints the worked example of docs/security.md, so a C# team can check CnmcspCrypto.cs:
//
//   mcs -out:WorkedExample.exe CnmcspCrypto.cs WorkedExample.cs && mono WorkedExample.exe
//
// With arguments it is a small command-line tool (the platform's interop tests drive it):
//
//   encrypt <registrationCode> [<disperseKey>]    JSON on stdin; prints the three wire values
//   decrypt <registrationCode> <disperseKey> <encryptData> <macValue>   prints the JSON
//   derive <masterKeyHex> <disperseKey>           prints the session key
//   mac <sessionMacKeyHex> <dataHex>              prints the MacValue of the bytes
//
// Text goes in and out as UTF-8 whatever the console's encoding. A rejected message exits with 3
// and writes its ReturnCode to stderr; any other failure exits with 1.

using System;
using System.IO;
using System.Text;

namespace Cnmcsp
{
    public static class WorkedExample
    {
        private const string RegistrationCode =
            "0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0";

        private const string DisperseKey = "3815092746153820";

        private const string Payload =
            "{\"UserID\":\"KYNYN144860\",\"MeterID\":\"012345678912\",\"DataFrom\":\"苍南仪表集团\"}";

        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        public static int Main(string[] args)
        {
            var output = new StreamWriter(Console.OpenStandardOutput(), Utf8);
            output.NewLine = "\n";
            try
            {
                return Run(args, output);
            }
            catch (CnmcspCryptoException error)
            {
                Console.Error.WriteLine(error.Code + " " + error.Message);
                return 3;
            }
            catch (Exception error)
            {
                Console.Error.WriteLine(error.GetType().FullName + ": " + error.Message);
                return 1;
            }
            finally
            {
                output.Flush();
            }
        }

        private static int Run(string[] args, TextWriter output)
        {
            string command = args.Length == 0 ? "example" : args[0];
            switch (command)
            {
                case "example":
                    PrintEncrypted(output, RegistrationCode, DisperseKey, Payload);
                    return 0;

                case "encrypt":
                    string disperseKey = args.Length > 2 ? args[2] : CnmcspCrypto.GenerateDisperseKey();
                    PrintEncrypted(output, args[1], disperseKey, ReadStandardInput());
                    return 0;

                case "decrypt":
                    output.Write(CnmcspCrypto.VerifyAndDecrypt(args[1], args[2], args[3], args[4]));
                    return 0;

                case "derive":
                    byte[] sessionKey = CnmcspCrypto.DeriveSessionKey(FromHex(args[1]), args[2]);
                    output.WriteLine(BitConverter.ToString(sessionKey).Replace("-", ""));
                    return 0;

                case "mac":
                    output.WriteLine(CnmcspCrypto.ComputeMac(FromHex(args[1]), FromHex(args[2])));
                    return 0;

                default:
                    Console.Error.WriteLine("unknown command: " + command);
                    return 1;
            }
        }

        private static void PrintEncrypted(
            TextWriter output, string registrationCode, string disperseKey, string json)
        {
            string macValue;
            string encryptData = CnmcspCrypto.Encrypt(registrationCode, disperseKey, json, out macValue);

            output.WriteLine("DisperseKey: " + disperseKey);
            output.WriteLine("EncryptData: " + encryptData);
            output.WriteLine("MacValue: " + macValue);
        }

        private static string ReadStandardInput()
        {
            using (var input = new StreamReader(Console.OpenStandardInput(), Utf8))
            {
                return input.ReadToEnd();
            }
        }

        private static byte[] FromHex(string hex)
        {
            var bytes = new byte[hex.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
            }

            return bytes;
        }
    }
}
