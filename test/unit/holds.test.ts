import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyEvent } from '../../lambdas/apply/apply';
import { createConsumer } from '../../lambdas/apply/consumer';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { fixedClock } from '../../lambdas/shared/clock';
import type { SourceHold } from '../../lambdas/state/ports';
import { consumerFakes } from '../fakes/apply-set';
import { ariUpdate, EVENT_RECEIVED_AT } from '../support/events';

const clock = fixedClock(EVENT_RECEIVED_AT);
const SEEDS = [
  { scope: '*', properties: { 'HOTEL-A': 'prop-a' }, roomTypes: { DBL: 'dbl' }, ratePlans: { BAR: 'bar' } },
];
const HOLD: SourceHold = {
  sourceId: 'cm-held',
  heldAt: '2026-06-01T11:00:00.000Z',
  by: 'arn:aws:iam::111122223333:user/ops',
  reason: 'provider incident',
};

function harness() {
  const fakes = consumerFakes({ clock, seeds: SEEDS });
  const logger = new Logger({ serviceName: 'paritysync-apply-test' });
  const metrics = new Metrics({ namespace: 'ParitySyncTest', serviceName: 'paritysync-apply-test' });
  return { ...fakes, consumer: createConsumer(fakes.deps, logger, metrics) };
}

function rateFrom(sourceId: string, occurredAt = '2026-06-01T11:59:00.000Z'): CanonicalEvent {
  return ariUpdate({
    sourceId,
    occurredAt,
    data: { propertyExternalId: 'HOTEL-A', rate: { amountMinor: 10_000, currency: 'EUR' } },
  });
}

function record(event: CanonicalEvent, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1780315200400',
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: '1780315200500',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:paritysync-events',
    awsRegion: 'us-east-1',
  };
}

const batch = (events: readonly CanonicalEvent[]) => ({
  Records: events.map((event, index) => record(event, `m${index}`)),
});

/** The consumer's log and metric lines, kept off the test output and readable as JSON. */
let output: string[] = [];
const writes = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};
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
  process.stdout.write = writes.stdout;
  process.stderr.write = writes.stderr;
});
const eventLines = () =>
  output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.message === 'event');

describe('a held source', () => {
  it('has its events parked under its hold key and recorded as held, and nothing of them applied', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const event = rateFrom('cm-held');

    const outcome = await applyEvent(event, h.withFreshHolds());

    expect(outcome).toEqual({ status: 'parked', reason: 'held', waitingFor: 'hold|cm-held' });
    expect(await h.ledger.get(event.eventId)).toMatchObject({ status: 'held', reason: 'held' });
    expect(await h.review.waitingFor('hold|cm-held')).toEqual([
      { event, reason: 'held', waitingFor: 'hold|cm-held', parkedAt: EVENT_RECEIVED_AT },
    ]);
    expect(h.ari.nights.size).toBe(0);
  });

  it('holds back any kind of event, and leaves other sources applying', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const deps = h.withFreshHolds();
    const unmapped = ariUpdate({ sourceId: 'cm-held', data: { propertyExternalId: 'NOT-MAPPED' } });
    const other = rateFrom('cm-free');

    expect(await applyEvent(unmapped, deps)).toMatchObject({ status: 'parked', waitingFor: 'hold|cm-held' });
    expect(await applyEvent(other, deps)).toMatchObject({ status: 'applied' });
    expect(await h.ledger.status(other.eventId)).toBe('applied');
  });

  it('does not park an event already applied, whose copy comes late', async () => {
    const h = harness();
    const event = rateFrom('cm-held');
    expect(await applyEvent(event, h.withFreshHolds())).toMatchObject({ status: 'applied' });
    await h.holdStore.putHold(HOLD);

    expect(await applyEvent(event, h.withFreshHolds())).toEqual({
      status: 'skipped',
      reason: 'already applied',
    });
    expect(await h.review.waitingFor('hold|cm-held')).toEqual([]);
  });

  it('leaves nothing parked when another copy of the event was applied while this one was being held', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const event = rateFrom('cm-held');
    // The copy in another batch, which read no hold, settles first: between this copy's status read and its settle.
    const read = h.ledger.status.bind(h.ledger);
    h.ledger.status = async (eventId) => {
      const status = await read(eventId);
      await h.ledger.settle({ eventId, sourceId: event.sourceId }, 'applied', EVENT_RECEIVED_AT);
      return status;
    };

    expect(await applyEvent(event, h.withFreshHolds())).toEqual({
      status: 'skipped',
      reason: 'settled concurrently',
    });
    expect(await h.review.waitingFor('hold|cm-held')).toEqual([]);
    expect(await h.ledger.status(event.eventId)).toBe('applied');
  });

  it('applies a held event once it comes back after the resume, and takes it out of review', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const event = rateFrom('cm-held');
    await applyEvent(event, h.withFreshHolds());
    await h.holdStore.deleteHold('cm-held');

    expect(await applyEvent(event, h.withFreshHolds())).toMatchObject({ status: 'applied' });
    expect(await h.ledger.status(event.eventId)).toBe('applied');
    expect(await h.review.waitingFor('hold|cm-held')).toEqual([]);
    expect(h.ari.nights.size).toBe(3);
  });
});

describe('the consumer and holds', () => {
  it('reads each source’s hold once per batch, strongly consistent, not once per event', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const held = [rateFrom('cm-held'), rateFrom('cm-held'), rateFrom('cm-held')];
    const free = [rateFrom('cm-free'), rateFrom('cm-free')];

    const response = await h.consumer(batch([...held, ...free]));

    expect(response).toEqual({ batchItemFailures: [] });
    const readsOf = (sourceId: string) => h.holdStore.reads.filter((read) => read === sourceId).length;
    // One read for the batch, and one once it is done to see whether a resume came in between.
    expect(readsOf('cm-held')).toBe(2);
    expect(readsOf('cm-free')).toBe(1);
    for (const event of held) expect(await h.ledger.status(event.eventId)).toBe('held');
    for (const event of free) expect(await h.ledger.status(event.eventId)).toBe('applied');
    const parked = eventLines().filter((line) => line.outcome === 'parked');
    expect(parked.map((line) => line.waitingForEntity)).toEqual(['hold', 'hold', 'hold']);
  });

  it('takes a hold set between two batches from the second batch on', async () => {
    const h = harness();
    const first = rateFrom('cm-held');
    const second = rateFrom('cm-held');
    await h.consumer(batch([first]));
    await h.holdStore.putHold(HOLD);
    await h.consumer(batch([second]));

    expect(await h.ledger.status(first.eventId)).toBe('applied');
    expect(await h.ledger.status(second.eventId)).toBe('held');
  });

  it('puts back on the queue what it parked for a hold that ended during the batch', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    const events = [rateFrom('cm-held'), rateFrom('cm-held')];
    // The operator resumes right after the batch has read the hold: the resume's release may miss these events.
    const read = h.holdStore.hold.bind(h.holdStore);
    h.holdStore.hold = async (sourceId) => {
      const hold = await read(sourceId);
      await h.holdStore.deleteHold(sourceId);
      return hold;
    };

    await h.consumer(batch(events));

    for (const event of events) expect(await h.ledger.status(event.eventId)).toBe('held');
    expect(h.requeued).toEqual(events);
  });

  it('leaves the parked events to the resume while the hold is still there when the batch ends', async () => {
    const h = harness();
    await h.holdStore.putHold(HOLD);
    await h.consumer(batch([rateFrom('cm-held')]));
    expect(h.requeued).toEqual([]);
  });
});
