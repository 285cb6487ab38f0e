import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../common/config';
import { AesGcmPayloadCodec, DEV_CODEC_KEYS, ENCRYPTED_ENCODING, KEY_ID_METADATA_KEY, PayloadDecryptionError, payloadToJson, type CodecKey } from '../../common/temporal-codec';
import { decodePayloadsIn } from '../harness/histories';

describe('Temporal payload codec, AES-256-GCM (pure logic)', () => {
  const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
  const [k1, k2] = [key('k1'), key('k2')];
  const input = { orderId: 'o-1', customerEmail: 'jane@shop.example', paymentToken: 'tok_visa' };
  const plain = (): Payload => defaultPayloadConverter.toPayload(input);
  const meta = (p: Payload, name: string) => Buffer.from(p.metadata![name]!).toString('utf8');

  it('encrypts into a payload that names its encoding and key id and holds nothing in clear; decoding gives back the original', async () => {
    const codec = new AesGcmPayloadCodec([k1], 'k1');
    const [encoded] = await codec.encode([plain()]);
    expect(meta(encoded!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(encoded!, KEY_ID_METADATA_KEY)).toBe('k1');
    expect(Object.keys(encoded!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA_KEY].sort());
    const bytes = Buffer.from(encoded!.data!).toString('latin1');
    for (const secret of ['jane@shop.example', 'tok_visa', 'json/plain']) expect(bytes).not.toContain(secret);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(input);
    expect(Buffer.from(decoded!.metadata!.encoding!).toString()).toBe('json/plain');
  });

  it('uses a fresh IV per payload: the same payload never encrypts to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec([k1], 'k1');
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('rotates keys: encodes with the current key and still decodes payloads of a retired one', async () => {
    const before = new AesGcmPayloadCodec([k1], 'k1');
    const after = new AesGcmPayloadCodec([k2, k1], 'k2');
    const [old] = await before.encode([plain()]);
    const [fresh] = await after.encode([plain()]);
    expect(meta(fresh!, KEY_ID_METADATA_KEY)).toBe('k2');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([input, input]);
  });

  it('refuses altered data, an altered key id and a truncated payload', async () => {
    const codec = new AesGcmPayloadCodec([k1, k2], 'k1');
    const [encoded] = await codec.encode([plain()]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data: flipped }])).rejects.toThrow(/failed authentication/);
    const relabelled = { ...encoded!, metadata: { ...encoded!.metadata, [KEY_ID_METADATA_KEY]: Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([{ ...encoded!, data: Buffer.from(encoded!.data!).subarray(0, 20) }])).rejects.toThrow(/too short/);
  });

  it('refuses a payload of an unknown key id, naming it and what to do', async () => {
    const [encoded] = await new AesGcmPayloadCodec([k2], 'k2').encode([plain()]);
    await expect(new AesGcmPayloadCodec([k1], 'k1').decode([encoded!])).rejects.toThrow(/key id "k2", which is not configured \(known: k1\).*TEMPORAL_CODEC_KEYS/);
  });

  it('passes payloads without its encoding through unchanged (histories from before the codec)', async () => {
    const codec = new AesGcmPayloadCodec([k1], 'k1');
    const old = plain();
    const [decoded] = await codec.decode([old]);
    expect(decoded).toBe(old);
  });
});

describe('recorded histories (pure logic)', () => {
  it('are saved with every encrypted payload decrypted, wherever it sits, and everything else as it was', async () => {
    const codec = new AesGcmPayloadCodec([{ id: 'k1', key: randomBytes(32) }], 'k1');
    const plain = payloadToJson(defaultPayloadConverter.toPayload({ orderId: 'o-1' }));
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ orderId: 'o-1' })]);
    const history = { events: [{ eventId: '1', attributes: { input: { payloads: [payloadToJson(encrypted!), plain] } } }], other: [1, 'x', null] };
    expect(await decodePayloadsIn(history, codec)).toEqual({ events: [{ eventId: '1', attributes: { input: { payloads: [plain, plain] } } }], other: [1, 'x', null] });
  });
});

describe('codec keys from the environment (pure logic)', () => {
  const b64 = () => randomBytes(32).toString('base64');

  it('has a dev key by default, clearly named, current unless another is chosen', () => {
    const c = loadConfig({});
    expect(DEV_CODEC_KEYS.startsWith('dev-')).toBe(true);
    expect(c.TEMPORAL_CODEC_KEYS.map((k) => k.id)).toEqual(['dev-codec-key-1']);
    expect(c.TEMPORAL_CODEC_KEY_ID).toBe('dev-codec-key-1');
  });

  it('reads several keys; the current one is TEMPORAL_CODEC_KEY_ID, else the first listed', () => {
    const keys = `new:${b64()}, old:${b64()}`;
    expect(loadConfig({ TEMPORAL_CODEC_KEYS: keys }).TEMPORAL_CODEC_KEY_ID).toBe('new');
    const c = loadConfig({ TEMPORAL_CODEC_KEYS: keys, TEMPORAL_CODEC_KEY_ID: 'old' });
    expect(c.TEMPORAL_CODEC_KEY_ID).toBe('old');
    expect(c.TEMPORAL_CODEC_KEYS.map((k) => [k.id, k.key.length])).toEqual([['new', 32], ['old', 32]]);
  });

  it('refuses malformed entries, short keys, duplicate ids and a current id that is not listed', () => {
    for (const bad of ['', 'nokey', `:${b64()}`, `k1:${randomBytes(16).toString('base64')}`, 'k1:not base64!', `k1:${b64()},k1:${b64()}`]) {
      expect(() => loadConfig({ TEMPORAL_CODEC_KEYS: bad })).toThrow(/TEMPORAL_CODEC_KEYS/);
    }
    expect(() => loadConfig({ TEMPORAL_CODEC_KEYS: `k1:${randomBytes(16).toString('base64')}` })).toThrow(/openssl rand -base64 32/);
    expect(() => loadConfig({ TEMPORAL_CODEC_KEYS: `k1:${b64()}`, TEMPORAL_CODEC_KEY_ID: 'k9' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_CODEC_KEYS: `k1:${b64()}`, TEMPORAL_CODEC_KEY_ID: 'k9' })).toThrow(/TEMPORAL_CODEC_KEY_ID: "k9" is not a key id/);
  });

  it('takes the Web UI origins for CORS, and refuses a URL that is not an origin', () => {
    expect(loadConfig({}).TEMPORAL_UI_ORIGIN).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
    expect(loadConfig({ TEMPORAL_UI_ORIGIN: 'https://temporal.example.com' }).TEMPORAL_UI_ORIGIN).toEqual(['https://temporal.example.com']);
    expect(() => loadConfig({ TEMPORAL_UI_ORIGIN: 'https://temporal.example.com/ui' })).toThrow(/TEMPORAL_UI_ORIGIN/);
  });
});
