// Calls the platform through the Web Reference proxy that mono's (or .NET's) wsdl tool generates
// from the live ?wsdl, in the call shape of spec §4.2, for a tenant in plaintext mode (spec §4:
// test servers). Reads "Operation<TAB>payload" lines on standard input and prints
// "Operation|OpResult|EncryptData" for each call.
using System;
using System.IO;
using System.Text;

class PlaintextCaller
{
    static int Main(string[] args)
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        var MidTest = new WebReference.WSI_MIDDataServices();
        if (args.Length > 0) MidTest.Url = args[0];

        string line;
        while ((line = input.ReadLine()) != null)
        {
            if (line.Trim().Length == 0) continue;
            int tab = line.IndexOf('\t');
            string operation = line.Substring(0, tab);
            string EncryptData = line.Substring(tab + 1);
            string DisperseKey = "";
            string MacValue = "";

            int iRet = Call(MidTest, operation, ref EncryptData, ref DisperseKey, ref MacValue);
            Console.WriteLine(operation + "|" + iRet + "|" + EncryptData);
        }
        return 0;
    }

    static int Call(WebReference.WSI_MIDDataServices service, string operation,
        ref string EncryptData, ref string DisperseKey, ref string MacValue)
    {
        switch (operation)
        {
            case "MeterAdd": return service.MeterAdd(ref EncryptData, ref DisperseKey, ref MacValue);
            case "MeterModify": return service.MeterModify(ref EncryptData, ref DisperseKey, ref MacValue);
            case "MeterDelete": return service.MeterDelete(ref EncryptData, ref DisperseKey, ref MacValue);
            case "MeterSuspend": return service.MeterSuspend(ref EncryptData, ref DisperseKey, ref MacValue);
            case "MeterResume": return service.MeterResume(ref EncryptData, ref DisperseKey, ref MacValue);
            case "MeterChange": return service.MeterChange(ref EncryptData, ref DisperseKey, ref MacValue);
            case "ReadCurrentData": return service.ReadCurrentData(ref EncryptData, ref DisperseKey, ref MacValue);
            case "Recharge": return service.Recharge(ref EncryptData, ref DisperseKey, ref MacValue);
            case "CancelRecharge": return service.CancelRecharge(ref EncryptData, ref DisperseKey, ref MacValue);
            case "ChangePrice": return service.ChangePrice(ref EncryptData, ref DisperseKey, ref MacValue);
            case "BatchChangePrice": return service.BatchChangePrice(ref EncryptData, ref DisperseKey, ref MacValue);
            case "ControlValve": return service.ControlValve(ref EncryptData, ref DisperseKey, ref MacValue);
            case "RemainOption": return service.RemainOption(ref EncryptData, ref DisperseKey, ref MacValue);
            default: throw new ArgumentException("unknown operation " + operation);
        }
    }
}
