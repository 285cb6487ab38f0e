import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { Config } from './config';
import { AesGcmPayloadCodec } from './temporal-codec';

type CodecConfig = Pick<Config, 'TEMPORAL_CODEC_KEYS' | 'TEMPORAL_CODEC_KEY_ID'>;

/** The payload codec every Temporal client, worker, replayer and the codec server use. */
export function temporalPayloadCodec(config: CodecConfig): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(config.TEMPORAL_CODEC_KEYS, config.TEMPORAL_CODEC_KEY_ID);
}

/**
 * The failure converter module (common/temporal-failure-converter.ts): failure messages and stack
 * traces encoded as a payload, so the codec encrypts them too. Workers load it by path inside the
 * workflow sandbox; the ahead-of-time workflow bundle (scripts/build.ts) must be built with it.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./temporal-failure-converter');

/**
 * The data converter for every Temporal Client and Worker of ours, and the replayer: payloads
 * encrypted with the codec (common/temporal-codec.ts), failure messages and stack traces encoded
 * into payloads first so they are encrypted as well. The codec runs outside the workflow sandbox,
 * so the workflow bundle needs nothing of it; the failure converter runs inside it too.
 * Pass `codec` to share one instance (the API's codec server does).
 */
export function temporalDataConverter(config: CodecConfig, codec: PayloadCodec = temporalPayloadCodec(config)): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}
