import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Temporal payload codec: every payload our clients and workers send (workflow and activity
 * inputs, results, memo, signals, queries, updates) leaves encrypted with AES-256-GCM, so the
 * Temporal server, its database and anyone with Web UI access see ciphertext only. The Web UI
 * shows decoded payloads through the codec server (api/routes/codec.ts).
 *
 * An encrypted payload: metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`;
 * data = 12-byte random IV ‖ ciphertext of the whole original payload (protobuf) ‖ 16-byte tag.
 * The key id and encoding are bound as additional authenticated data, so changing them fails too.
 * Keys rotate: encode uses the current key, decode any configured one by the id in the payload.
 * Payloads without our encoding (histories from before the codec) pass through unchanged.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const CODEC_KEY_BYTES = 32;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** A payload the codec cannot decode: unknown key id, altered or truncated data. */
export class PayloadDecryptionError extends Error {}

const text = (b: Uint8Array | null | undefined): string | undefined => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : undefined);
/** Bytes with an ArrayBuffer of their own (not a slice of Buffer's shared pool), as metadata values were before. */
const ownBytes = (s: string): Buffer => Buffer.from(new TextEncoder().encode(s).buffer);
const ENCRYPTED_ENCODING_BYTES = ownBytes(ENCRYPTED_ENCODING);

/**
 * Fresh random IVs, drawn from the CSPRNG 256 at a time (one call per payload cost a third of
 * encrypting one). Each IV is handed out once: a used slice is never given again, and a refill is a
 * new buffer, so an IV still being read is never overwritten.
 */
class IvSource {
  private pool = Buffer.alloc(0);
  private offset = 0;

  next(): Buffer {
    if (this.offset + IV_BYTES > this.pool.length) {
      this.pool = randomBytes(IV_BYTES * 256);
      this.offset = 0;
    }
    const iv = this.pool.subarray(this.offset, this.offset + IV_BYTES);
    this.offset += IV_BYTES;
    return iv;
  }
}

/**
 * A configured key, made ready once: the key as a KeyObject (a raw Buffer is imported again by every
 * createCipheriv), and the metadata value and additional data that name its id.
 */
interface ReadyKey {
  id: string;
  key: KeyObject;
  idBytes: Buffer;
  additionalData: Buffer;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, ReadyKey>;
  private readonly current: ReadyKey;
  private readonly ivs = new IvSource();

  constructor(keys: readonly CodecKey[], currentKeyId: string) {
    for (const { id, key } of keys) {
      if (key.length !== CODEC_KEY_BYTES) throw new Error(`Temporal codec key "${id}" has ${key.length} bytes; AES-256 needs ${CODEC_KEY_BYTES}.`);
    }
    this.keys = new Map(keys.map(({ id, key }) => [id, {
      id, key: createSecretKey(key), idBytes: ownBytes(id), additionalData: additionalData(id),
    }]));
    const current = this.keys.get(currentKeyId);
    if (!current) throw new Error(`The current Temporal codec key id "${currentKeyId}" is not among the configured keys (${[...this.keys.keys()].join(', ')}).`);
    this.current = current;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const { key, idBytes, additionalData } = this.current;
    const iv = this.ivs.next();
    const cipher = createCipheriv(ALGORITHM, key, iv);
    cipher.setAAD(additionalData);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    // The metadata values are shared by every payload of this key: nothing writes to a payload's metadata bytes.
    return { metadata: { [METADATA_ENCODING_KEY]: ENCRYPTED_ENCODING_BYTES, [KEY_ID_METADATA_KEY]: idBytes }, data: sealed };
  }

  private decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA_KEY]);
    if (!keyId) throw new PayloadDecryptionError(`An encrypted Temporal payload has no "${KEY_ID_METADATA_KEY}" metadata, so no key can decrypt it.`);
    const ready = this.keys.get(keyId);
    if (!ready) {
      throw new PayloadDecryptionError(
        `A Temporal payload is encrypted with key id "${keyId}", which is not configured (known: ${[...this.keys.keys()].join(', ')}). ` +
        'Add that key to TEMPORAL_CODEC_KEYS (keep retired keys there while histories encrypted with them are kept).',
      );
    }
    const data = payload.data ? Buffer.from(payload.data.buffer, payload.data.byteOffset, payload.data.byteLength) : Buffer.alloc(0);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`An encrypted Temporal payload (key id "${keyId}") is too short to be ours: it was truncated or altered.`);
    try {
      const decipher = createDecipheriv(ALGORITHM, ready.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(ready.additionalData);
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(`An encrypted Temporal payload (key id "${keyId}") failed authentication: it was altered, or the configured key "${keyId}" is not the one it was encrypted with.`);
    }
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return !!encoding && encoding.byteLength === ENCRYPTED_ENCODING_BYTES.byteLength && ENCRYPTED_ENCODING_BYTES.equals(encoding);
}

function additionalData(keyId: string): Buffer {
  return Buffer.from(`${ENCRYPTED_ENCODING}\n${keyId}`, 'utf8');
}

/** Dev-only key so `npm run dev` works; never use it in production (it is in this repository). */
export const DEV_CODEC_KEYS = 'dev-codec-key-1:HdsFeMA/fSiFLjHjZolKq62oGsYiOt41eCf9NeM3jwc=';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * TEMPORAL_CODEC_KEYS: `<keyId>:<base64 of 32 bytes>[,<keyId>:<base64>…]`. Returns the keys or
 * the list of what is wrong with the value, each saying how to fix it.
 */
export function parseCodecKeys(value: string): { keys: CodecKey[]; problems: string[] } {
  const keys: CodecKey[] = [];
  const problems: string[] = [];
  for (const [i, entry] of value.split(',').map((e) => e.trim()).entries()) {
    const sep = entry.indexOf(':');
    const id = sep < 0 ? '' : entry.slice(0, sep);
    const b64 = sep < 0 ? '' : entry.slice(sep + 1);
    if (!KEY_ID.test(id)) {
      problems.push(`entry ${i + 1} must be <keyId>:<base64 key>, the key id of letters, digits, ".", "_" or "-"`);
      continue;
    }
    const key = Buffer.from(b64, 'base64');
    if (key.length !== CODEC_KEY_BYTES || key.toString('base64') !== b64) {
      problems.push(`key "${id}" must be ${CODEC_KEY_BYTES} random bytes in base64 (make one with \`openssl rand -base64 32\`)`);
      continue;
    }
    if (keys.some((k) => k.id === id)) problems.push(`key id "${id}" is listed twice`);
    else keys.push({ id, key });
  }
  return { keys, problems };
}

/** A payload in proto JSON, as the codec server protocol and history JSON carry it: bytes in base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export const payloadFromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

export const payloadToJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});
