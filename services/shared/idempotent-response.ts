import type { Response } from 'express';
import type { HttpProblem } from '../../common/http';
import { IDEMPOTENT_REPLAYED_HEADER } from '../../common/idempotency-key';
import type { IdempotentResult, StoredResponse } from './idempotency';

/** Sends what runIdempotent produced, identically for the first answer and for replays. */
export function sendIdempotentResult(res: Response, result: IdempotentResult): void {
  if (result.replayed) res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  res.status(result.status);
  if (result.status >= 400) res.type('application/problem+json').send(JSON.stringify(result.body));
  else res.json(result.body);
}

/**
 * A business refusal (out of stock, wrong state) as a stored answer: returned from the idempotent
 * work, not thrown, so that it is recorded under the key and replayed as-is.
 */
export function refusal(httpProblem: HttpProblem, instance: string): StoredResponse {
  return { status: httpProblem.problem.status, body: { ...httpProblem.problem, instance } };
}
