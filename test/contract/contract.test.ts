import { describe, expect, it } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { parseStrictJson } from '../../lambdas/shared/strict-json';
import type { Breakage, KindFixture, Sample } from './fixture';
import { createEdge, DEFAULT_SETTINGS } from './harness';
import * as channelManager from './kinds/channel-manager';
import * as hospitable from './kinds/hospitable';
import * as mapping from './kinds/mapping';
import * as ota from './kinds/ota';
import * as pms from './kinds/pms';
import * as standardWebhooks from './kinds/standard-webhooks';

/**
 * One suite, every provider kind: each valid sample is accepted exactly once in its canonical form, and each
 * way of breaking a request is refused with its exact status and error code, with nothing written.
 */
type FixtureModule = { fixture?: KindFixture; fixtures?: readonly KindFixture[] };
const modules: FixtureModule[] = [channelManager, ota, pms, mapping, hospitable, standardWebhooks];
const FIXTURES = modules.flatMap((m) => [...(m.fixture ? [m.fixture] : []), ...(m.fixtures ?? [])]);

const serialise = (body: string | Record<string, unknown>): Buffer =>
  Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');

/** The time the sample says it happened, so the suite can stand the clock just after it. */
function occurredAtOf(fixture: KindFixture, sample: Sample): number {
  const config = parseConfig({ version: 1, sources: [fixture.source] });
  const source = config.sources[0];
  if (!source) throw new Error('fixture has no source');
  const body = serialise(sample.body);
  const at = Math.floor(Date.UTC(2026, 5, 1) / 1000);
  const headers = lower({ ...fixture.sign(body, { at }), ...sample.headers });
  const normalised = adapterFor(fixture.kind).normalise(
    parseStrictJson(body.toString('utf8')),
    { headers, rawBody: body },
    {},
    { source, secrets: [], toleranceSeconds: 300, clock: fixedClock(at * 1000), crypto: nodeCrypto },
  );
  return Math.floor(normalised.occurredAt.getTime() / 1000);
}

function lower(headers: Record<string, string | null>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== null) result[name.toLowerCase()] = value;
  return result;
}

function signatureHeaderName(fixture: KindFixture): string {
  const header = fixture.requiredHeaders.find((h) => h.code === 'missing_signature');
  if (!header) throw new Error(`${fixture.kind} fixture lists no signature header`);
  return header.name.toLowerCase();
}

/** Changes one byte inside the first string value, keeping the JSON valid. */
function alterOneByte(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const match = /":\s*"([A-Za-z0-9])/.exec(text);
  if (!match || match.index === undefined) throw new Error('sample has no string value to alter');
  const at = match.index + match[0].length - 1;
  const replacement = text[at] === 'A' ? 'B' : 'A';
  return Buffer.from(text.slice(0, at) + replacement + text.slice(at + 1), 'utf8');
}

/** Puts a byte sequence that is not UTF-8 inside the first string value, keeping the JSON structure. */
function withInvalidUtf8(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const match = /":\s*"/.exec(text);
  if (!match) throw new Error('sample has no string value');
  const at = Buffer.byteLength(text.slice(0, match.index + match[0].length), 'utf8');
  return Buffer.concat([body.subarray(0, at), Buffer.from([0xc3, 0x28]), body.subarray(at)]);
}

/** Repeats the first top-level key, which JSON.parse would silently accept. */
function withDuplicateFirstKey(body: Buffer): Buffer {
  const text = body.toString('utf8');
  const match = /^\{\s*("(?:[^"\\]|\\.)*")\s*:/.exec(text);
  if (!match?.[1]) throw new Error('sample is not a JSON object');
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const key = JSON.parse(match[1]) as string;
  return Buffer.from(`{${match[1]}:${JSON.stringify(parsed[key])},${text.slice(1)}`, 'utf8');
}

describe.each(FIXTURES.map((f) => [`${f.kind} (${f.source.id})`, f] as const))(
  'contract: %s',
  (_name, fixture) => {
    const sourceId = fixture.source.id;
    const secretValues = (fixture.source.secrets ?? []).map((ref) => ('value' in ref ? ref.value : ''));
    const applySample = fixture.samples.find((s) => s.expect.disposition === 'apply') ?? fixture.samples[0];
    if (!applySample) throw new Error(`${fixture.kind} fixture has no samples`);

    function edgeAt(sample: Sample) {
      const edge = createEdge([fixture.source]);
      const occurredAt = occurredAtOf(fixture, sample);
      edge.clock.set(occurredAt + 60);
      const signed = (
        body: Buffer,
        options: { at?: number; secret?: string; extra?: Record<string, string> } = {},
      ) => ({
        sourceId,
        body,
        headers: lower({
          ...fixture.sign(body, {
            at: options.at ?? edge.clock.seconds,
            ...(options.secret ? { secret: options.secret } : {}),
          }),
          ...sample.headers,
          ...options.extra,
        }),
      });
      return { ...edge, signed };
    }

    it.each(fixture.samples.map((s) => [s.name, s] as const))(
      'accepts sample %s once, in canonical form',
      async (_n, sample) => {
        const edge = edgeAt(sample);
        const answer = await edge.deliver(edge.signed(serialise(sample.body)));
        expect(answer.status, JSON.stringify(answer.json)).toBe(200);
        expect(answer.json.status).toBe('accepted');
        const eventId = answer.json.eventId as string;
        expect(eventId).toMatch(/^evt_[0-9a-f]{32}$/);
        const entry = await edge.ledger.get(eventId);
        expect(entry?.providerEventType).toBe(sample.expect.providerEventType);
        if (sample.expect.idempotencyKey) expect(entry?.idempotencyKey).toBe(sample.expect.idempotencyKey);

        if (sample.expect.disposition === 'record') {
          expect(answer.json.action).toBe('recorded');
          expect(entry?.status).toBe('recorded');
          expect(edge.queue.messages).toHaveLength(0);
          return;
        }
        expect(answer.json.action).toBe('enqueued');
        expect(entry?.status).toBe('enqueued');
        expect(edge.queue.messages).toHaveLength(1);
        const event = edge.queue.messages[0];
        expect(event).toMatchObject({
          schemaVersion: 1,
          eventId,
          sourceId,
          kind: fixture.kind,
          providerEventType: sample.expect.providerEventType,
          type: sample.expect.type,
          receivedAt: edge.clock.now().toISOString(),
        });
        expect(event?.data).toEqual(sample.expect.data);
        if (sample.expect.occurredAt) expect(event?.occurredAt).toBe(sample.expect.occurredAt);
        if (sample.expect.idempotencyKey) expect(event?.idempotencyKey).toBe(sample.expect.idempotencyKey);
        // Guest personal data never travels past the edge.
        expect(JSON.stringify(event)).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
      },
    );

    it('answers a redelivery of the same event as a duplicate and queues nothing more', async () => {
      const edge = edgeAt(applySample);
      const body = serialise(applySample.body);
      const first = await edge.deliver(edge.signed(body));
      expect(first.status).toBe(200);
      edge.clock.set(edge.clock.seconds + 30);
      const again = await edge.deliver(edge.signed(body));
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ status: 'duplicate', eventId: first.json.eventId });
      expect(edge.queue.messages.length).toBe(applySample.expect.disposition === 'apply' ? 1 : 0);
    });

    it('verifies with any active secret, so secrets can be rotated', async () => {
      expect(secretValues.length, 'fixtures configure two secrets').toBeGreaterThanOrEqual(2);
      const edge = edgeAt(applySample);
      const answer = await edge.deliver(
        edge.signed(serialise(applySample.body), { secret: secretValues[1] }),
      );
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    });

    const refusals: [
      string,
      (edge: ReturnType<typeof edgeAt>) => Parameters<ReturnType<typeof edgeAt>['deliver']>[0],
      number,
      string,
    ][] = [
      [
        'a wrong secret',
        (e) => e.signed(serialise(applySample.body), { secret: 'not-the-configured-secret-0123456789' }),
        401,
        'invalid_signature',
      ],
      [
        'a body altered by one byte after signing',
        (e) => {
          const signed = e.signed(serialise(applySample.body));
          return { ...signed, body: alterOneByte(signed.body) };
        },
        401,
        'invalid_signature',
      ],
      [
        'a truncated signature',
        (e) => {
          const signed = e.signed(serialise(applySample.body));
          const name = signatureHeaderName(fixture);
          const value = signed.headers[name] ?? '';
          return { ...signed, headers: { ...signed.headers, [name]: value.slice(0, -4) } };
        },
        401,
        'invalid_signature',
      ],
      [
        'a duplicated key',
        (e) => e.signed(withDuplicateFirstKey(serialise(applySample.body))),
        400,
        'duplicate_key',
      ],
      [
        'a __proto__ key',
        (e) =>
          e.signed(
            Buffer.from(
              `{"__proto__":{"polluted":true},${serialise(applySample.body).toString('utf8').slice(1)}`,
            ),
          ),
        400,
        'forbidden_key',
      ],
      ['malformed JSON', (e) => e.signed(serialise(applySample.body).subarray(0, -1)), 400, 'invalid_json'],
      [
        'invalid UTF-8',
        (e) => e.signed(withInvalidUtf8(serialise(applySample.body))),
        400,
        'invalid_encoding',
      ],
      [
        'a body over the cap',
        (e) => e.signed(Buffer.alloc(DEFAULT_SETTINGS.maxBodyBytes + 1, 0x20)),
        413,
        'payload_too_large',
      ],
      [
        'a text/plain content type',
        (e) => {
          const signed = e.signed(serialise(applySample.body));
          return { ...signed, headers: { ...signed.headers, 'content-type': 'text/plain' } };
        },
        415,
        'unsupported_media_type',
      ],
      [
        'no content type',
        (e) => {
          const { 'content-type': _dropped, ...headers } = e.signed(serialise(applySample.body)).headers;
          return { sourceId, body: serialise(applySample.body), headers };
        },
        415,
        'unsupported_media_type',
      ],
      [
        'an unknown source id',
        (e) => ({ ...e.signed(serialise(applySample.body)), sourceId: 'no-such-source' }),
        404,
        'unknown_source',
      ],
    ];

    it.each(refusals)(
      'refuses %s with its status and code, writing nothing',
      async (_what, build, status, code) => {
        const edge = edgeAt(applySample);
        const answer = await edge.deliver(build(edge));
        expect(answer.status, JSON.stringify(answer.json)).toBe(status);
        expect(answer.json.error).toBe(code);
        expect(typeof answer.json.message).toBe('string');
        expect(edge.ledger.entries.size).toBe(0);
        expect(edge.queue.messages).toHaveLength(0);
      },
    );

    it.each(fixture.requiredHeaders.map((h) => [h.name, h] as const))(
      'refuses a delivery without %s',
      async (name, header) => {
        const edge = edgeAt(applySample);
        const signed = edge.signed(serialise(applySample.body));
        const { [name.toLowerCase()]: _removed, ...headers } = signed.headers;
        const answer = await edge.deliver({ ...signed, headers });
        expect(answer.status, JSON.stringify(answer.json)).toBe(header.status);
        expect(answer.json.error).toBe(header.code);
        expect(edge.queue.messages).toHaveLength(0);
      },
    );

    if (fixture.signsTimestamp) {
      const tolerance = fixture.source.toleranceSeconds ?? 300;
      it.each([
        ['exactly at the tolerance in the past', -tolerance, 200, undefined],
        ['exactly at the tolerance in the future', tolerance, 200, undefined],
        ['one second staler than the tolerance', -tolerance - 1, 401, 'timestamp_out_of_tolerance'],
        [
          'one second further in the future than the tolerance',
          tolerance + 1,
          401,
          'timestamp_out_of_tolerance',
        ],
      ] as const)('judges a signature timestamp %s', async (_what, offset, status, code) => {
        const edge = edgeAt(applySample);
        const answer = await edge.deliver(
          edge.signed(serialise(applySample.body), { at: edge.clock.seconds + offset }),
        );
        expect(answer.status, JSON.stringify(answer.json)).toBe(status);
        if (code) expect(answer.json.error).toBe(code);
      });
    } else {
      it('refuses a replay older than the dedupe window, judged by the payload timestamp', async () => {
        const edge = edgeAt(applySample);
        edge.clock.set(occurredAtOf(fixture, applySample) + DEFAULT_SETTINGS.dedupeWindowSeconds + 1);
        const answer = await edge.deliver(edge.signed(serialise(applySample.body)));
        expect(answer.status).toBe(401);
        expect(answer.json.error).toBe('stale_event');
      });

      it('refuses a payload dated further in the future than the tolerance', async () => {
        const edge = edgeAt(applySample);
        edge.clock.set(occurredAtOf(fixture, applySample) - (fixture.source.toleranceSeconds ?? 300) - 1);
        const answer = await edge.deliver(edge.signed(serialise(applySample.body)));
        expect(answer.status).toBe(401);
        expect(answer.json.error).toBe('timestamp_out_of_tolerance');
      });
    }

    it.each(fixture.breakages.map((b) => [b.name, b] as const))(
      'refuses %s',
      async (_name, breakage: Breakage) => {
        const edge = edgeAt(applySample);
        const body = serialise(breakage.body);
        const signed = edge.signed(body);
        const headers = breakage.headers
          ? lower({ ...signed.headers, ...breakage.headers(signed.headers) })
          : signed.headers;
        const answer = await edge.deliver({ ...signed, headers });
        expect(answer.status, JSON.stringify(answer.json)).toBe(breakage.status);
        expect(answer.json.error).toBe(breakage.code);
        if (breakage.fields) {
          const named = (answer.json.fields as { path: string }[]).map((f) => f.path);
          expect(named).toEqual(expect.arrayContaining([...breakage.fields]));
        }
        expect(edge.queue.messages).toHaveLength(0);
      },
    );

    it('answers 503 when the event cannot be queued, and a retry queues it exactly once', async () => {
      const sample = fixture.samples.find((s) => s.expect.disposition === 'apply');
      if (!sample) return;
      const edge = edgeAt(sample);
      const body = serialise(sample.body);
      edge.queue.failNextSends = 1;
      const failed = await edge.deliver(edge.signed(body));
      expect(failed.status).toBe(503);
      expect(failed.json.error).toBe('enqueue_failed');
      expect(failed.headers['retry-after']).toBeDefined();
      expect(edge.queue.messages).toHaveLength(0);
      const retried = await edge.deliver(edge.signed(body));
      expect(retried.status, JSON.stringify(retried.json)).toBe(200);
      expect(retried.json).toMatchObject({
        status: 'accepted',
        eventId: failed.json.eventId ?? retried.json.eventId,
      });
      expect(edge.queue.messages).toHaveLength(1);
      const third = await edge.deliver(edge.signed(body));
      expect(third.json.status).toBe('duplicate');
      expect(edge.queue.messages).toHaveLength(1);
    });

    it('answers 503 when the ledger is unavailable, and queues nothing', async () => {
      const edge = edgeAt(applySample);
      edge.ledger.failNextClaims = 1;
      const answer = await edge.deliver(edge.signed(serialise(applySample.body)));
      expect(answer.status).toBe(503);
      expect(answer.json.error).toBe('ledger_unavailable');
      expect(edge.queue.messages).toHaveLength(0);
    });

    it('refuses a sender outside an explicit allowlist with 403', async () => {
      const edge = createEdge([{ ...fixture.source, allowedCidrs: ['203.0.113.0/24'] }]);
      edge.clock.set(occurredAtOf(fixture, applySample) + 60);
      const body = serialise(applySample.body);
      const headers = lower({ ...fixture.sign(body, { at: edge.clock.seconds }), ...applySample.headers });
      const outside = await edge.deliver({ sourceId, body, headers, sourceIp: '198.51.100.7' });
      expect(outside.status).toBe(403);
      expect(outside.json.error).toBe('sender_not_allowed');
      const inside = await edge.deliver({ sourceId, body, headers, sourceIp: '203.0.113.9' });
      expect(inside.status, JSON.stringify(inside.json)).toBe(200);
    });
  },
);
