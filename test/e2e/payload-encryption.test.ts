import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { revokeApiKey, secretOf } from '../../api/api-keys';
import { orderWorkflowId } from '../../common/order/workflow-contract';
import { ENCRYPTED_ENCODING, type JsonPayload } from '../../common/temporal-codec';
import { temporalDataConverter } from '../../common/temporal-connection';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { waitFor } from '../harness/system';
import { cleanUp } from '../harness/clean-up';

/**
 * Payloads in Temporal are encrypted: a confirmed order's history, read without the codec as the
 * Temporal server and Web UI see it, holds neither the customer's email nor the card token; failure
 * messages and stack traces are encrypted too; the codec server (/codec) gives an operator the
 * decoded payloads, and answers the Web UI's CORS preflight. All real: the whole system on a real
 * Temporal dev server.
 */
describe('payload encryption in Temporal', () => {
  let system: FullSystem;
  let raw: { client: Client; connection: Connection };
  let decoding: Client;
  let codecUrl: string;
  let UI_ORIGIN: string;
  let OPERATOR_KEY: string;

  beforeAll(async () => {
    system = await startFullSystem();
    const connection = await Connection.connect({ address: system.config.TEMPORAL_ADDRESS });
    raw = { connection, client: new Client({ connection, namespace: system.config.TEMPORAL_NAMESPACE }) }; // no codec: what the server stores
    decoding = new Client({ connection, namespace: system.config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(system.config) }); // as our API and worker
    codecUrl = `${system.apiUrl}/codec`;
    UI_ORIGIN = system.config.TEMPORAL_UI_ORIGIN[0]!;
    OPERATOR_KEY = system.operatorKey;
  });

  afterAll(() => cleanUp(
    () => raw?.connection.close(),
    () => system?.stop(),
  ));

  async function confirmedOrder(email: string, token: string): Promise<string> {
    return placedOrder(email, token, 'CONFIRMED');
  }

  async function placedOrder(email: string, token: string, finalStatus: string): Promise<string> {
    await system.peers.inventory.upsertProduct('CODEC-MUG', { name: 'Mug', priceCents: 900, stock: 100 });
    const res = await fetch(`${system.apiUrl}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${system.shopKey}` },
      body: JSON.stringify({ customerId: 'cust-codec', customerEmail: email, currency: 'EUR', items: [{ sku: 'CODEC-MUG', quantity: 1 }], payment: { token } }),
    });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };
    await waitFor(`order ${orderId} ${finalStatus}`, async () => ((await (await fetch(`${system.apiUrl}/orders/${orderId}`, { headers: { authorization: `Bearer ${system.shopKey}` } })).json()) as { status: string }).status === finalStatus);
    return orderId;
  }

  const decode = (payloads: JsonPayload[], headers: Record<string, string>) => fetch(`${codecUrl}/decode`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': system.config.TEMPORAL_NAMESPACE, origin: UI_ORIGIN, ...headers },
    body: JSON.stringify({ payloads }),
  });

  it('a confirmed order\'s raw history holds neither the email nor the card token; an operator decodes its payloads through the codec server', async () => {
    const email = `codec-${randomUUID().slice(0, 8)}@shop.example`;
    const token = 'tok_visa';
    const orderId = await confirmedOrder(email, token);

    const history = await raw.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    const json = historyToJSON(history);
    for (const secret of [email, token, 'shop.example']) {
      expect(bytes.includes(secret)).toBe(false);
      expect(json).not.toContain(secret);
    }
    // Every payload of the history is ours, encrypted: the workflow input, activity inputs and results, the memo.
    const payloads = [...json.matchAll(/"metadata":\s*\{\s*"encoding":\s*"([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString());
    expect(payloads.length).toBeGreaterThan(10);
    const started = JSON.parse(json).events[0].workflowExecutionStartedEventAttributes as { input: { payloads: JsonPayload[] } };
    expect(Buffer.from(started.input.payloads[0]!.metadata!.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);

    // The codec server: refused without the operator's credentials, decoded with them (bearer or session cookie).
    expect((await decode(started.input.payloads, {})).status).toBe(401);
    expect((await decode(started.input.payloads, { authorization: `Bearer ${system.shopKey}` })).status).toBe(403); // a shop's key is not an operator's
    const res = await decode(started.input.payloads, { authorization: `Bearer ${OPERATOR_KEY}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const [decoded] = ((await res.json()) as { payloads: JsonPayload[] }).payloads;
    expect(Buffer.from(decoded!.metadata!.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(decoded!.data!, 'base64').toString())).toMatchObject({ orderId });

    const signIn = await fetch(`${codecUrl}/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: OPERATOR_KEY }) });
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain(`<code>${codecUrl}</code>`);
    const cookie = signIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/codec/i);
    expect(cookie).not.toContain(secretOf(OPERATOR_KEY)!); // the cookie names the key, it does not hold it
    const viaCookie = await decode(started.input.payloads, { cookie: cookie.split(';')[0]! });
    expect(viaCookie.status).toBe(200);
    expect(((await viaCookie.json()) as { payloads: JsonPayload[] }).payloads).toEqual([decoded]);
    // A tampered session (a later expiry) is refused; so is the session of a key revoked since.
    const [name, value] = cookie.split(';')[0]!.split('=') as [string, string];
    const [keyId, expires, mac] = decodeURIComponent(value).split('.') as [string, string, string];
    expect((await decode(started.input.payloads, { cookie: `${name}=${keyId}.${Number(expires) + 3_600_000}.${mac}` })).status).toBe(401);
    const shortLived = await system.createApiKey('codec-revoked', 'operator');
    const revokedSignIn = await fetch(`${codecUrl}/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: shortLived }) });
    const revokedCookie = revokedSignIn.headers.get('set-cookie')!.split(';')[0]!;
    expect((await decode(started.input.payloads, { cookie: revokedCookie })).status).toBe(200);
    await revokeApiKey(system.peers.db, shortLived);
    expect((await decode(started.input.payloads, { cookie: revokedCookie })).status).toBe(401);
    const wrongKey = await fetch(`${codecUrl}/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key: 'guess' }) });
    expect([wrongKey.status, wrongKey.headers.get('set-cookie')]).toEqual([401, null]);

    // Encode then decode round-trips through the server; another namespace is refused.
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"hello":"codec"}').toString('base64') };
    const encoded = (await (await fetch(`${codecUrl}/encode`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_KEY}` }, body: JSON.stringify({ payloads: [plain] }) })).json()) as { payloads: JsonPayload[] };
    expect(encoded.payloads[0]!.data).not.toBe(plain.data);
    expect(((await (await decode(encoded.payloads, { authorization: `Bearer ${OPERATOR_KEY}` })).json()) as { payloads: JsonPayload[] }).payloads).toEqual([plain]);
    expect((await decode(encoded.payloads, { authorization: `Bearer ${OPERATOR_KEY}`, 'x-namespace': 'other' })).status).toBe(400);

    // A payload of a key we do not have, and a body that is not the protocol's: problems that say why.
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const unknownKey = await decode([{ metadata: { encoding: b64(ENCRYPTED_ENCODING), 'encryption-key-id': b64('retired-key') }, data: encoded.payloads[0]!.data }], { authorization: `Bearer ${OPERATOR_KEY}` });
    expect(unknownKey.status).toBe(422);
    expect(((await unknownKey.json()) as { detail: string }).detail).toMatch(/key id "retired-key", which is not configured/);
    expect((await decode([{ data: 'not base64!' }], { authorization: `Bearer ${OPERATOR_KEY}` })).status).toBe(400);
  });

  it('a failed activity\'s message and stack trace are encrypted in the history; our data converter decodes them', async () => {
    const orderId = await placedOrder(`codec-${randomUUID().slice(0, 8)}@shop.example`, 'tok_chargeDeclined', 'CANCELLED');
    const history = await raw.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    // The authorization ran as a local activity (workflows/retry-policies.ts): its failure is in its marker.
    const failed = history.events!.find((e) => e.markerRecordedEventAttributes?.failure)?.markerRecordedEventAttributes?.failure;
    expect(failed).toBeDefined();

    // As the server stores it: the SDK's placeholder, no stack trace, the real text in an encrypted payload.
    expect(failed).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
    expect(Buffer.from(failed!.encodedAttributes!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    const json = historyToJSON(history);
    // The message, the decline code (also in the failure's details) and the stack trace's frames (the activity's type name is in clear by design).
    for (const clear of ['Payment declined', 'card_declined', 'peer-errors.ts', 'activities/payment.ts']) {
      expect(bytes.includes(clear)).toBe(false);
      expect(json).not.toContain(clear);
    }

    // With our data converter (the API's and worker's), the failure reads as it was thrown.
    const decoded = await decodeOptionalFailureToOptionalError(decoding.options.loadedDataConverter, failed);
    expect(decoded?.message).toBe('Payment declined (card_declined)');
    expect(decoded?.stack).toContain('activities/payment.ts');
  });

  it('the API\'s codec server answers the Web UI\'s CORS preflight without credentials, for the UI\'s origin only, and refuses decoding without them', async () => {
    const preflight = (origin: string) => fetch(`${system.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
    });
    const ui = system.config.TEMPORAL_UI_ORIGIN[0]!;
    const ok = await preflight(ui);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ui);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(['content-type', 'x-namespace', 'authorization']);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const unauthenticated = await fetch(`${system.apiUrl}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ui }, body: '{"payloads":[]}' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
