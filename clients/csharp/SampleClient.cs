// How a C# customer service system (CIS) calls the platform with encryption switched on
// (interface spec §4; docs/client-kit.md). It uses only System.Security.Cryptography, through
// CnmcspCrypto.cs, and the Web Reference proxy generated from the platform's live WSDL:
//
//   wsdl -out:Proxy.cs -n:WebReference http://host:8080/WSI_MIDDataServices.asmx?wsdl
//   mcs -r:System.Web.Services -codepage:utf8 -out:SampleClient.exe \
//       SampleClient.cs CnmcspCrypto.cs Proxy.cs
//   mono SampleClient.exe <registrationCode> [<serviceUrl>] [<DataFrom>]
//
// (In Visual Studio: "Add Web Reference" with the namespace WebReference, then add
// CnmcspCrypto.cs and this file.) Pass the registration code from your configuration, not on a
// shared machine's command line.
//
// It runs all 13 operations, in the order a CIS would on one account, and prints one line each:
//
//   Operation<TAB>iRet<TAB>verified|plain<TAB>the answer's JSON
//
// "verified": the answer's MAC checked with the answer's own DisperseKey, then decrypted.
// "plain": the platform refused the request before it could tell whose key to use (a wrong
// registration code, a malformed message) and answered in plaintext; only a refusal may come so.

using System;
using System.Text;
using Cnmcsp;

public static class SampleClient
{
    // The spec's examples (§5.3.1–§5.3.13). {DataFrom} is the gas company's name on the
    // platform; {MeterID} the account's meter, which changes when MeterChange succeeds.
    private static readonly string[][] Tour =
    {
        new[] { "MeterAdd", @"{""UserID"":""KYNYN144860"",""UserName"":""KYNYN144860"",""UserType"":""1"",""Phone"":""13566956201"",""FullAddrDetail"":""详细的地址信息内容"",""AddrDetail"":""503室"",""BuildingName"":""3单元 3栋"",""FireDate"":""2019-09-02 00:00:00"",""PreSaving"":""1000"",""MeterID"":""{MeterID}"",""MeterNo"":""{MeterID}"",""MeterParamModel"":""CNMCPUJE"",""MeterProtocol"":""CNModbusV61"",""GprsDTU"":""{MeterID}"",""DTUMeterType"":""ICJEW"",""GprsAddr"":""23"",""MeterAddr"":""23"",""MeterReading"":0,""PriceID"":""5021"",""Version"":""309"",""IniDate"":""2019-09-02 00:00:00"",""PriceMode"":""101"",""MonthCount"":""12"",""Price1"":1.20,""Price2"":1.80,""Price3"":3.00,""Level1"":2000,""Level2"":5000,""DataFrom"":""{DataFrom}""}" },
        new[] { "MeterModify", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""UserName"":""KYNYN144860"",""Phone"":""13566956201"",""FullAddrDetail"":""详细的地址信息内容"",""AddrDetail"":""503室"",""BuildingName"":""3 单元 3栋"",""DataFrom"":""{DataFrom}""}" },
        new[] { "MeterSuspend", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""DataFrom"":""{DataFrom}""}" },
        new[] { "MeterResume", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""DataFrom"":""{DataFrom}""}" },
        new[] { "MeterChange", @"{""UserID"":""KYNYN144860"",""OldMeterID"":""{MeterID}"",""OldENDREADING"":8680.50,""NewMeterID"":""012345678919"",""NewMeterNo"":""012345678919"",""NewMeterParamModel"":""CNMCPUJE"",""NewMeterProtocol"":""CNModbusV61"",""NewGprsDTU"":""012345678912"",""NewDTUMeterType"":""ICJEW"",""NewGprsAddr"":""23"",""NewMeterAddr"":""23"",""NewMeterReading"":0,""ChangeTime"":""2019-10-02 12:44:22"",""PreSaving"":1500,""DataFrom"":""{DataFrom}""}" },
        new[] { "ReadCurrentData", @"{""Meters"":[{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}""}]}" },
        new[] { "Recharge", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""TradeNo"":""CNMCSPKYNYN20191002123422"",""RechargeTime"":""2019-10-02 12:34:22"",""RechargeAmt"":""50000"",""DataFrom"":""{DataFrom}""}" },
        new[] { "CancelRecharge", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""TradeNo"":""CNMCSPKYNYN20191002123422"",""CancelTime"":""2019-10-02 12:44:22"",""CancelAmt"":""50000"",""DataFrom"":""{DataFrom}""}" },
        new[] { "ChangePrice", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""ChangeTime"":""2019-10-02 00:00:00"",""PriceID"":""5021"",""Version"":""309"",""IniDate"":""2019-09-02 00:00:00"",""PriceMode"":""101"",""MonthCount"":""12"",""Price1"":1.20,""Price2"":1.80,""Price3"":3.00,""Level1"":2000,""Level2"":5000,""DataFrom"":""{DataFrom}""}" },
        new[] { "BatchChangePrice", @"{""Meters"":[{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}""}],""ChangeTime"":""2019-10-02 00:00:00"",""PriceID"":""5021"",""Version"":""309"",""IniDate"":""2019-09-02 00:00:00"",""PriceMode"":""101"",""MonthCount"":""12"",""Price1"":1.20,""Price2"":1.80,""Price3"":3.00,""Level1"":2000,""Level2"":5000,""DataFrom"":""{DataFrom}""}" },
        new[] { "ControlValve", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""Control"":2010,""DataFrom"":""{DataFrom}""}" },
        new[] { "RemainOption", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""TradeNo"":""CNMCSPKYNYN20191002123499"",""CMDOption"":1000,""OptionTime"":""2019-10-02 12:34:22"",""OptionAmt"":""50000"",""DataFrom"":""{DataFrom}""}" },
        new[] { "MeterDelete", @"{""UserID"":""KYNYN144860"",""MeterID"":""{MeterID}"",""DataFrom"":""{DataFrom}""}" },
    };

    private static string RegistrationCode;
    private static WebReference.WSI_MIDDataServices MidTest;

    public static int Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: mono SampleClient.exe <registrationCode> [<serviceUrl>] [<DataFrom>]");
            return 1;
        }

        var output = new System.IO.StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        output.NewLine = "\n";
        RegistrationCode = args[0];
        MidTest = new WebReference.WSI_MIDDataServices();
        if (args.Length > 1) MidTest.Url = args[1];
        string dataFrom = args.Length > 2 ? args[2] : "苍南仪表集团";
        string meterId = "012345678912";

        foreach (string[] step in Tour)
        {
            string operation = step[0];
            string json = step[1].Replace("{DataFrom}", dataFrom).Replace("{MeterID}", meterId);
            string answer;
            string trust;
            int iRet = Call(operation, json, out answer, out trust);

            output.WriteLine(operation + "\t" + iRet + "\t" + trust + "\t" + answer);
            if (operation == "MeterChange" && iRet == 0) meterId = "012345678919";
        }

        output.Flush();
        return 0;
    }

    /// <summary>One encrypted call, exactly in the shape of spec §4.2.</summary>
    private static int Call(string operation, string json, out string answer, out string trust)
    {
        // 1. A fresh 16-digit DisperseKey for every message: never reuse one, not even for a
        //    retry (the platform refuses a repeat within 24 hours: 80003003).
        string DisperseKey = CnmcspCrypto.GenerateDisperseKey();

        // 2. Encrypt the JSON (UTF-8, 3DES-CBC) and MAC the ciphertext.
        string MacValue;
        string EncryptData = CnmcspCrypto.Encrypt(RegistrationCode, DisperseKey, json, out MacValue);

        // 3. The call. The proxy sends the three strings and puts the answer's into them.
        int iRet;
        switch (operation)
        {
            case "MeterAdd": iRet = MidTest.MeterAdd(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "MeterModify": iRet = MidTest.MeterModify(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "MeterDelete": iRet = MidTest.MeterDelete(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "MeterSuspend": iRet = MidTest.MeterSuspend(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "MeterResume": iRet = MidTest.MeterResume(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "MeterChange": iRet = MidTest.MeterChange(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "ReadCurrentData": iRet = MidTest.ReadCurrentData(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "Recharge": iRet = MidTest.Recharge(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "CancelRecharge": iRet = MidTest.CancelRecharge(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "ChangePrice": iRet = MidTest.ChangePrice(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "BatchChangePrice": iRet = MidTest.BatchChangePrice(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "ControlValve": iRet = MidTest.ControlValve(ref EncryptData, ref DisperseKey, ref MacValue); break;
            case "RemainOption": iRet = MidTest.RemainOption(ref EncryptData, ref DisperseKey, ref MacValue); break;
            default: throw new ArgumentException("not an operation of the interface: " + operation);
        }

        string outEncryptData = EncryptData;   // the answer's ciphertext
        string outDisperseKey = DisperseKey;   // the answer's own, new DisperseKey
        string outMacValue = MacValue;         // the answer's MAC

        // 4. A plaintext answer can only be a refusal; a plaintext "success" would be a forgery.
        if (string.IsNullOrEmpty(outDisperseKey) && string.IsNullOrEmpty(outMacValue))
        {
            if (iRet == 0) throw new InvalidOperationException(operation + ": unverifiable plaintext success");
            answer = outEncryptData;
            trust = "plain";
            return iRet;
        }

        // 5. Verify the MAC with the answer's DisperseKey, then decrypt. Throws
        //    CnmcspCryptoException (80003001 / 80003002) when the answer was altered.
        answer = CnmcspCrypto.VerifyAndDecrypt(RegistrationCode, outDisperseKey, outEncryptData, outMacValue);
        trust = "verified";
        return iRet;
    }
}
