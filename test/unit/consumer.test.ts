import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConsumer } from '../../lambdas/apply/consumer';
import type { AriUpdate, CanonicalEvent } from '../../lambdas/domain/canonical';
import type { FieldGroup, NightWrite, RoomNightKey, Version } from '../../lambdas/domain/state';
import { fixedClock } from '../../lambdas/shared/clock';
import { InMemoryAriStore } from '../fakes/apply-memory';
import { consumerFakes } from '../fakes/apply-set';
import { ariUpdate, serviceNotice } from '../support/events';

const NOW = '2026-06-01T12:00:05.000Z';
// Values that appear only inside events' `data`: none of them may ever reach a log line or a metric.
const SENTINEL_ROOM = 'ROOM-SENTINEL-7781';
const SENTINEL_CHANNEL = 'CHANNEL-SENTINEL-3390';
const SENTINEL_AMOUNT = 987_654_321;

/** Fails every write of the listed events, as DynamoDB throttling would, and applies the others. */
class FlakyAriStore extends InMemoryAriStore {
  readonly failingEvents = new Set<string>();
  override async writeNight(key: RoomNightKey, write: NightWrite, version: Version, eventId: string) {
    if (this.failingEvents.has(eventId)) {
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
    return super.writeNight(key, write, version, eventId) as Promise<FieldGroup[]>;
  }
}

function setup() {
  const ari = new FlakyAriStore();
  const { deps, ledger, review } = consumerFakes({
    clock: fixedClock(NOW),
    ari,
    seeds: [
      {
        scope: 'cm-demo',
        properties: { 'HOTEL-A': 'prop-a' },
        roomTypes: { DBL: 'dbl', [SENTINEL_ROOM]: 'sentinel-room' },
        ratePlans: { BAR: 'bar' },
      },
    ],
  });
  const logger = new Logger({ serviceName: 'paritysync-apply-test' });
  const metrics = new Metrics({ namespace: 'ParitySyncTest', serviceName: 'paritysync-apply-test' });
  return { consumer: createConsumer(deps, logger, metrics), ari, ledger, review };
}

/** Five seconds before NOW, received 400 ms after it happened: every applied event lags by 5,000 ms. */
const TIMES = { occurredAt: '2026-06-01T12:00:00.000Z', receivedAt: '2026-06-01T12:00:00.400Z' } as const;

/**
 * A rate update from cm-demo, mapped and applicable. Envelope overrides are spread over the built event as they
 * are, so that a test can break it (a missing type, an unknown version).
 */
function ariEvent(envelope: Record<string, unknown> = {}, data: Partial<AriUpdate> = {}): CanonicalEvent {
  const event = ariUpdate({
    sourceId: 'cm-demo',
    ...TIMES,
    data: {
      channelId: 'booking',
      propertyExternalId: 'HOTEL-A',
      dateTo: '2026-07-02',
      rate: { amountMinor: 12990, currency: 'EUR' },
      availability: 4,
      ...data,
    },
  });
  return { ...event, ...envelope } as CanonicalEvent;
}

/** `eventId`, `sourceId` and `type` travel as message attributes, as the events queue sends them. */
function sqsRecord(
  body: string,
  options: { messageId: string; receiveCount?: number; attributes?: Record<string, string> },
): SQSRecord {
  return {
    messageId: options.messageId,
    receiptHandle: `rh-${options.messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1780315200400',
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: '1780315200500',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(options.attributes ?? {}).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:paritysync-events',
    awsRegion: 'us-east-1',
  };
}

const recordOf = (event: CanonicalEvent, messageId: string, receiveCount = 1) =>
  sqsRecord(JSON.stringify(event), {
    messageId,
    receiveCount,
    attributes: { eventId: event.eventId, sourceId: event.sourceId, type: event.type },
  });

/** Everything Powertools writes (log lines to stdout/stderr, EMF metrics to stdout), as parsed JSON lines. */
let output: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
beforeEach(() => {
  output = [];
  const capture = (chunk: string | Uint8Array) => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
});
afterEach(() => {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
});

function jsonLines(): Record<string, unknown>[] {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
const logLines = () => jsonLines().filter((line) => line.message === 'event');
const metricLines = () => jsonLines().filter((line) => '_aws' in line);

describe('the SQS consumer', () => {
  it('fails one bad record alone: the partial batch response names only its message', async () => {
    const { consumer, ari, ledger } = setup();
    const events = [ariEvent(), ariEvent(), ariEvent()];
    const failing = events[1] as CanonicalEvent;
    ari.failingEvents.add(failing.eventId);

    const response = await consumer({ Records: events.map((event, i) => recordOf(event, `m${i}`)) });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(await ledger.status(events[0]?.eventId ?? '')).toBe('applied');
    expect(await ledger.status(events[2]?.eventId ?? '')).toBe('applied');
    expect(await ledger.status(failing.eventId)).toBe('enqueued');
    expect(await ledger.get(failing.eventId)).toMatchObject({
      status: 'enqueued',
      lastError:
        'receive 1 of 5 failed: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
      lastErrorAt: NOW,
    });
    expect(await ledger.get(events[0]?.eventId ?? '')).not.toHaveProperty('lastError');
    expect(await ledger.get(events[2]?.eventId ?? '')).not.toHaveProperty('lastError');
    const outcomes = Object.fromEntries(logLines().map((line) => [line.correlation_id, line.outcome]));
    expect(outcomes).toEqual({
      [events[0]?.eventId ?? '']: 'applied',
      [failing.eventId]: 'retrying',
      [events[2]?.eventId ?? '']: 'applied',
    });
  });

  it('reports every record when every record fails, rather than throwing', async () => {
    const { consumer, ari } = setup();
    const events = [ariEvent(), ariEvent()];
    for (const event of events) ari.failingEvents.add(event.eventId);
    const response = await consumer({ Records: events.map((event, i) => recordOf(event, `m${i}`)) });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m0', 'm1']);
  });

  it('acknowledges a malformed body and settles its ledger entry as rejected, since it can never succeed', async () => {
    const { consumer, ledger } = setup();
    const notJson = sqsRecord('{"schemaVersion":1,', {
      messageId: 'm0',
      attributes: { eventId: 'evt_from_attribute', sourceId: 'cm-demo' },
    });
    const noType = recordOf(ariEvent({ eventId: 'evt_no_type', type: undefined }), 'm1');
    const dataNotObject = recordOf(ariEvent({ eventId: 'evt_array_data', data: [1, 2] }), 'm2');
    const unknownVersion = recordOf(ariEvent({ eventId: 'evt_v2', schemaVersion: 2 }), 'm3');
    const sloppyTime = recordOf(ariEvent({ eventId: 'evt_time', occurredAt: '2026-06-01T12:00:00Z' }), 'm4');

    const response = await consumer({
      Records: [notJson, noType, dataNotObject, unknownVersion, sloppyTime],
    });

    expect(response).toEqual({ batchItemFailures: [] });
    const settled = (eventId: string) => ledger.entries.get(eventId);
    expect(settled('evt_from_attribute')).toMatchObject({ status: 'rejected' });
    expect(settled('evt_from_attribute')?.reason).toMatch(/^malformed_message: the body is not JSON/);
    expect(settled('evt_no_type')?.reason).toMatch(/^malformed_message: type: /);
    expect(settled('evt_array_data')?.reason).toMatch(/^malformed_message: data: /);
    expect(settled('evt_v2')?.reason).toMatch(/^malformed_message: schemaVersion: /);
    expect(settled('evt_time')?.reason).toContain('occurredAt: must be a UTC instant in the form');
    expect(logLines().map((line) => [line.correlation_id, line.outcome, line.error])).toEqual(
      ['evt_from_attribute', 'evt_no_type', 'evt_array_data', 'evt_v2', 'evt_time'].map((id) => [
        id,
        'rejected',
        'malformed_message',
      ]),
    );
  });

  it('rejects an event that breaks the applicability contract, counting it as a contract violation, never retrying it', async () => {
    const { consumer, ledger, ari } = setup();
    const farFuture = ariEvent(
      { eventId: 'evt_year_9999' },
      { dateFrom: '9999-12-31', dateTo: '9999-12-31' },
    );
    const loneSurrogate = ariEvent({ eventId: 'evt_surrogate' }, { channelId: 'X\ud800Y' });
    const longId = ariEvent({ eventId: 'evt_long_id' }, { channelId: '中'.repeat(200) });
    const frozen = ariEvent({ eventId: 'evt_2999', occurredAt: '2999-01-01T00:00:00.000Z' });

    const response = await consumer({
      Records: [farFuture, loneSurrogate, longId, frozen].map((event, i) => recordOf(event, `m${i}`)),
    });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ari.nights.size).toBe(0);
    const reason = (eventId: string) => ledger.entries.get(eventId);
    expect(reason('evt_year_9999')).toMatchObject({ status: 'rejected' });
    expect(reason('evt_year_9999')?.reason).toMatch(/^not_applicable: data\.dateFrom: must lie between/);
    expect(reason('evt_surrogate')?.reason).toMatch(
      /^not_applicable: data\.channelId: .*lone UTF-16 surrogate/,
    );
    expect(reason('evt_long_id')?.reason).toMatch(/^not_applicable: data\.channelId: .*received 600/);
    expect(reason('evt_2999')?.reason).toMatch(/^not_applicable: occurredAt: /);
    expect(logLines().map((line) => [line.correlation_id, line.outcome, line.error])).toEqual(
      ['evt_year_9999', 'evt_surrogate', 'evt_long_id', 'evt_2999'].map((id) => [
        id,
        'rejected',
        'not_applicable',
      ]),
    );
    const counted = metricLines().find((line) => 'ContractViolations' in line) ?? {};
    expect([counted.ContractViolations].flat().reduce((sum: number, value) => sum + Number(value), 0)).toBe(
      4,
    );
  });

  it('acknowledges an unreadable body that names no source, leaving the entry of the event it names alone', async () => {
    const { consumer, ledger } = setup();
    const response = await consumer({
      Records: [sqsRecord('nonsense', { messageId: 'm0', attributes: { eventId: 'evt_sourceless' } })],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ledger.entries.has('evt_sourceless')).toBe(false);
    expect(logLines()).toMatchObject([{ correlation_id: 'evt_sourceless', outcome: 'rejected' }]);
  });

  it('on the last receive, notes the failure on an event settled meanwhile without marking it dead-lettered', async () => {
    const { consumer, ari, ledger } = setup();
    const event = ariEvent();
    ari.failingEvents.add(event.eventId);
    // A concurrent delivery of the same event applied it after this one read the status.
    await ledger.settle(event, 'applied', NOW);
    ledger.status = async () => 'enqueued';

    await consumer({ Records: [recordOf(event, 'm-last', 5)] });

    expect(await ledger.get(event.eventId)).toMatchObject({
      status: 'applied',
      lastError: expect.stringMatching(/^dead-lettered after 5 receives: /),
    });
  });

  it('fails a record whose settlement cannot be written, so that the rejection is not lost', async () => {
    const { consumer, ledger } = setup();
    ledger.settle = async () => {
      throw new Error('ledger unavailable');
    };
    const response = await consumer({
      Records: [
        sqsRecord('nonsense', { messageId: 'm0', attributes: { eventId: 'evt_x', sourceId: 'cm-demo' } }),
      ],
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
  });

  it('on the last receive before the DLQ, marks the event dead-lettered and records why', async () => {
    const { consumer, ari, ledger } = setup();
    const event = ariEvent();
    ari.failingEvents.add(event.eventId);

    const response = await consumer({ Records: [recordOf(event, 'm-last', 5)] });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-last' }] });
    const why =
      'dead-lettered after 5 receives: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput';
    expect(await ledger.get(event.eventId)).toMatchObject({
      status: 'dead-lettered',
      reason: why,
      lastError: why,
      lastErrorAt: NOW,
    });
    const [line] = logLines();
    expect(line).toMatchObject({
      level: 'ERROR',
      correlation_id: event.eventId,
      outcome: 'dead_lettered',
      receiveCount: 5,
    });
  });

  it('still fails the record (and SQS retries it) when the failure note itself cannot be written', async () => {
    const { consumer, ari, ledger } = setup();
    ledger.note = async () => {
      throw new Error('ledger unavailable');
    };
    const event = ariEvent();
    ari.failingEvents.add(event.eventId);
    const response = await consumer({ Records: [recordOf(event, 'm0', 2)] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(logLines().find((line) => line.outcome === 'retrying')).toMatchObject({ ledgerNoted: false });
  });

  it('applies a redelivered event once: the second delivery is skipped', async () => {
    const { consumer, ari } = setup();
    const event = ariEvent();
    await consumer({ Records: [recordOf(event, 'm0')] });
    await consumer({ Records: [recordOf(event, 'm0', 2)] });
    expect(logLines().map((line) => line.outcome)).toEqual(['applied', 'skipped']);
    expect(ari.nights.size).toBe(2);
  });

  it('logs ids, outcome and timings per record, and never anything from the event data', async () => {
    const { consumer, ari } = setup();
    const applied = ariEvent(
      {},
      {
        roomTypeExternalId: SENTINEL_ROOM,
        channelId: SENTINEL_CHANNEL,
        rate: { amountMinor: SENTINEL_AMOUNT, currency: 'EUR' },
      },
    );
    const parked = ariEvent(
      {},
      { roomTypeExternalId: `${SENTINEL_ROOM}-UNMAPPED`, channelId: SENTINEL_CHANNEL },
    );
    const failing = ariEvent({}, { roomTypeExternalId: SENTINEL_ROOM, channelId: SENTINEL_CHANNEL });
    ari.failingEvents.add(failing.eventId);
    const malformed = ariEvent(
      { schemaVersion: 9 },
      { roomTypeExternalId: SENTINEL_ROOM, channelId: SENTINEL_CHANNEL },
    );
    const notice = serviceNotice({
      sourceId: 'cm-demo',
      ...TIMES,
      data: { notice: 'token_expired', detail: SENTINEL_CHANNEL },
    });

    await consumer({
      Records: [
        recordOf(applied, 'm0'),
        recordOf(parked, 'm1'),
        recordOf(failing, 'm2', 3),
        recordOf(malformed, 'm3'),
        recordOf(notice, 'm4'),
      ],
    });

    const everything = output.join('');
    expect(everything).not.toContain(SENTINEL_ROOM);
    expect(everything).not.toContain(SENTINEL_CHANNEL);
    expect(everything).not.toContain(String(SENTINEL_AMOUNT));
    expect(everything).not.toContain('"data"');

    const lines = Object.fromEntries(logLines().map((line) => [line.correlation_id, line]));
    expect(lines[applied.eventId]).toMatchObject({
      level: 'INFO',
      service: 'paritysync-apply-test',
      sourceId: 'cm-demo',
      kind: 'channel-manager',
      type: 'ari.update',
      outcome: 'applied',
      receiveCount: 1,
      roomNights: 2,
      written: { rate: 2, availability: 2, restrictions: 0 },
      // occurredAt 12:00:00.000, the clock says 12:00:05.000.
      lagMs: 5000,
      latencyMs: 0,
    });
    expect(lines[parked.eventId]).toMatchObject({ outcome: 'parked', waitingForEntity: 'roomType' });
    expect(lines[failing.eventId]).toMatchObject({ level: 'WARN', outcome: 'retrying', receiveCount: 3 });
    expect(lines[malformed.eventId]).toMatchObject({ level: 'ERROR', outcome: 'rejected' });
    expect(lines[notice.eventId]).toMatchObject({ outcome: 'applied', type: 'service.notice' });
  });

  it('emits outcome, failure, retry and lag metrics, and service notices by notice', async () => {
    const { consumer, ari } = setup();
    const failing = ariEvent();
    ari.failingEvents.add(failing.eventId);
    const notice = serviceNotice({ sourceId: 'cm-demo', ...TIMES, data: { notice: 'access_revoked' } });
    await consumer({
      Records: [
        recordOf(ariEvent(), 'm0'),
        recordOf(ariEvent(), 'm1', 2),
        recordOf(ariEvent({}, { roomTypeExternalId: 'UNMAPPED' }), 'm2'),
        recordOf(failing, 'm3', 4),
        recordOf(notice, 'm4'),
        sqsRecord('not json', { messageId: 'm5' }),
      ],
    });

    const metrics = metricLines();
    const batch = metrics.find((line) => 'EventsApplied' in line) ?? {};
    // EMF keeps one value per addMetric call; CloudWatch sums them.
    const total = (name: string) =>
      [batch[name]].flat().reduce((sum: number, value) => sum + Number(value), 0);
    expect({
      EventsApplied: total('EventsApplied'),
      EventsParked: total('EventsParked'),
      EventsRejected: total('EventsRejected'),
      ApplyFailures: total('ApplyFailures'),
      RetrySaturation: total('RetrySaturation'),
    }).toEqual({
      EventsApplied: 3,
      EventsParked: 1,
      EventsRejected: 1,
      ApplyFailures: 1,
      RetrySaturation: 2,
    });
    expect(batch.service).toBe('paritysync-apply-test');
    expect(batch.EventLagMs).toEqual([5000, 5000, 5000]);
    const namespaces = metrics.map(
      (line) => (line._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]?.Namespace,
    );
    expect(new Set(namespaces)).toEqual(new Set(['ParitySyncTest']));
    expect(metrics.find((line) => 'ServiceNotices' in line)).toMatchObject({
      ServiceNotices: 1,
      notice: 'access_revoked',
    });
  });
});
