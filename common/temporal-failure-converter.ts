import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of every Temporal client, worker and the workflow bundle: failure messages
 * and stack traces go into an encoded payload (the failure's `encodedAttributes`), which our payload
 * codec then encrypts like any other; the history keeps only the SDK's placeholder "Encoded failure".
 * Failures recorded before this (message in clear) still decode.
 *
 * This module is loaded inside the workflow sandbox (bundled through `failureConverterPath`), so it
 * must not import Node built-ins or anything that does. Referenced by path from common/temporal-connection.ts.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
