import { generateRegistrationCode, isUsableFromDotNet } from '../../src/security/tenant-keys';

describe('issuing a registration code', () => {
  it('draws 64 uppercase hexadecimal digits, different each time', () => {
    const codes = new Set(Array.from({ length: 200 }, () => generateRegistrationCode()));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[0-9A-F]{64}$/);
  });

  it('never hands out a code that .NET would refuse: weak DES halves or equal halves', () => {
    const code = (hex: string) => Buffer.from(hex, 'hex');
    const good = '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0';
    expect(isUsableFromDotNet(code(good))).toBe(true);
    // A weak key in the MAC master key, with its parity bits flipped: still weak for .NET.
    expect(isUsableFromDotNet(code(good.slice(0, 32) + '0001000100010001' + good.slice(48)))).toBe(false);
    // Equal halves make a double-length key single DES.
    expect(isUsableFromDotNet(code('0123456789ABCDEF0123456789ABCDEE' + good.slice(32)))).toBe(false);
    expect(isUsableFromDotNet(code('1FE01FE00EF10EF1' + good.slice(16)))).toBe(false);
  });
});
