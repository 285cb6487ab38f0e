import { msToNumber } from '@temporalio/common/lib/time';
import { afterLocalAttempt, boundedRecordStateOptions, forwardStepOptions, LOCAL_ATTEMPT_TIMEOUT, localAttemptOptions, undoStepOptions } from '../../workflows/retry-policies';

/** The local-first schedules (pure data and one function): a local attempt, then the regular activity. */
describe('retry policies after a local attempt', () => {
  it('a local attempt is one short try, waiting for its real outcome when cancelled', () => {
    expect(localAttemptOptions.retry).toEqual({ maximumAttempts: 1 });
    expect(msToNumber(LOCAL_ATTEMPT_TIMEOUT)).toBeLessThan(msToNumber(forwardStepOptions.startToCloseTimeout!));
    expect(localAttemptOptions.cancellationType).toBe(forwardStepOptions.cancellationType);
  });

  it('a forward step keeps its 20 attempts in all: 1 local, 19 regular', () => {
    const after = afterLocalAttempt(forwardStepOptions);
    expect(after.retry?.maximumAttempts).toBe(19);
    expect({ ...after, retry: { ...after.retry, maximumAttempts: 20 } }).toEqual(forwardStepOptions);
    expect(forwardStepOptions.retry?.maximumAttempts).toBe(20); // not changed in place
  });

  it('undos and state writes keep their time budgets, without an attempt limit', () => {
    for (const options of [undoStepOptions, boundedRecordStateOptions]) {
      expect(afterLocalAttempt(options)).toEqual(options);
      expect(options.retry?.maximumAttempts).toBeUndefined();
      expect(options.scheduleToCloseTimeout).toBeDefined();
    }
  });
});
