/**
 * The one allowance interop tests make for a third-party runtime: a client that dies by a signal
 * (mono's native crashes) gets its scenario run once more; any other failure is final.
 */
import { spawnSync } from 'node:child_process';
import { ClientRuntimeCrash, isRuntimeCrash, retryAfterRuntimeCrash } from '../support/interop';

describe('retryAfterRuntimeCrash', () => {
  it('recognises a process killed by a signal and mono crash reports, not ordinary failures', () => {
    const killed = spawnSync('sh', ['-c', 'kill -SEGV $$']);
    expect(killed.signal).toBe('SIGSEGV');
    expect(isRuntimeCrash(killed.signal, '')).toBe(true);
    expect(isRuntimeCrash(null, '=================\n\tNative Crash Reporting\n')).toBe(true);
    expect(isRuntimeCrash(null, 'Unhandled Exception: System.Net.WebException: refused')).toBe(false);
  });

  it('runs the scenario a second time after a crash, and only once more', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      let calls = 0;
      const answer = await retryAfterRuntimeCrash(async () => {
        calls += 1;
        if (calls === 1) throw new ClientRuntimeCrash('mono', 'SIGSEGV', 'MeterAdd|0|', '');
        return 'second run';
      });
      expect(answer).toBe('second run');
      expect(calls).toBe(2);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('crashed (SIGSEGV)'));

      calls = 0;
      const crashing = retryAfterRuntimeCrash(async () => {
        calls += 1;
        throw new ClientRuntimeCrash('mono', 'SIGABRT', '', '');
      });
      await expect(crashing).rejects.toBeInstanceOf(ClientRuntimeCrash);
      expect(calls).toBe(2);
    } finally {
      warn.mockRestore();
    }
  });

  it('does not retry a failure that is not a crash', async () => {
    let calls = 0;
    const failing = retryAfterRuntimeCrash(async () => {
      calls += 1;
      throw new Error('client exited 1');
    });
    await expect(failing).rejects.toThrow('client exited 1');
    expect(calls).toBe(1);
  });
});
