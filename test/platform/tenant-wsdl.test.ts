import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * A gas company's own endpoint (`/{tenantCode}/WSI_MIDDataServices.asmx`, DECISIONS §3.6) publishes
 * a WSDL whose address is that endpoint; a code the platform does not serve gets a 404 at once.
 */
describe("a gas company's own WSDL", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: '苍南仪表集团' });
  });
  afterAll(() => platform?.close());

  it('is served at its path, with its path as the address', async () => {
    const answer = await fetch(`${platform.url}/cangnan/WSI_MIDDataServices.asmx?wsdl`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain(`location="${platform.url}/cangnan/WSI_MIDDataServices.asmx"`);
  });

  it('is a 404 for a code no gas company has, or one that is disabled', async () => {
    const unknown = await fetch(`${platform.url}/nosuch/WSI_MIDDataServices.asmx?wsdl`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('nosuch');

    await platform.database.dataSource.query(`UPDATE tenant SET status = 'disabled' WHERE code = 'cangnan'`);
    try {
      expect((await fetch(`${platform.url}/cangnan/WSI_MIDDataServices.asmx?wsdl`)).status).toBe(404);
    } finally {
      await platform.database.dataSource.query(`UPDATE tenant SET status = 'active' WHERE code = 'cangnan'`);
    }
  });

  it('keeps the shared endpoint for everyone', async () => {
    expect((await fetch(`${platform.url}/WSI_MIDDataServices.asmx?wsdl`)).status).toBe(200);
  });
});
