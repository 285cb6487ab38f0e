import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { Config } from './config';
import { AesGcmPayloadCodec } from './temporal-codec';

type CodecConfig = Pick<Config, 'TEMPORAL_CODEC_KEYS' | 'TEMPORAL_CODEC_KEY_ID'>;

/** The payload codec every Temporal client, worker, replayer and the codec server use. */
export function temporalPayloadCodec(config: CodecConfig): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(config.TEMPORAL_CODEC_KEYS, config.TEMPORAL_CODEC_KEY_ID);
}

/**
 * The data converter for every Temporal Client and Worker of ours: payloads encrypted with the
 * codec (common/temporal-codec.ts). The codec runs outside the workflow sandbox, so the workflow
 * bundle needs nothing of it. Pass `codec` to share one instance (the API's codec server does).
 */
export function temporalDataConverter(config: CodecConfig, codec: PayloadCodec = temporalPayloadCodec(config)): DataConverter {
  return { payloadCodecs: [codec] };
}
