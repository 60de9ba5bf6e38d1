import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import { startReceiver } from '../support/push';

/** The reference receiver's admin endpoint: usable changes apply, anything else is a 400 saying why. */
describe('the reference CIS receiver, POST /admin/behaviour', () => {
  let receiver: CisReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  const change = async (body: string) => {
    const answer = await fetch(`${receiver.url}/admin/behaviour`, { method: 'POST', body });
    return { status: answer.status, json: (await answer.json()) as Record<string, any> };
  };

  it('applies a change it can use', async () => {
    const answer = await change('{"failRate":0.25,"delayMs":5}');
    expect(answer.status).toBe(200);
    expect(answer.json.behaviour).toMatchObject({ failRate: 0.25, delayMs: 5, stalled: false });
    await change('{"failRate":0,"delayMs":0}');
  });

  it.each([
    ['{bad', 'not JSON'],
    ['{"failRate":"abc"}', 'failRate'],
    ['{"failRate":1.5}', 'failRate'],
    ['{"delayMs":-1}', 'delayMs'],
    ['{"stalled":"yes"}', 'stalled'],
    ['{"failrate":0.5}', 'failrate'],
  ])('refuses %s with a 400 naming the problem, and changes nothing', async (body, problem) => {
    const answer = await change(body);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toContain(problem);
    expect(receiver.behaviour).toMatchObject({ failRate: 0, delayMs: 0, stalled: false });
  });
});
