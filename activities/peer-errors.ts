import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { PeerContractError } from '../common/clients/http-json';
import { PEER_CONTRACT_FAILURE } from '../common/failures';

/**
 * Runs a call to a peer service. Transient errors propagate unchanged, so Temporal retries them
 * with the activity's retry policy; a contract violation becomes non-retryable.
 */
export async function callPeer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof PeerContractError) {
      throw ApplicationFailure.create({ message: err.message, type: PEER_CONTRACT_FAILURE, nonRetryable: true, details: [{ status: err.status }] });
    }
    throw err;
  }
}

/**
 * A business outcome (out of stock, declined): non-retryable, and BENIGN so the worker logs it at
 * debug level instead of as an activity error.
 */
export function businessOutcome(type: string, message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, category: ApplicationFailureCategory.BENIGN, details: [details] });
}
