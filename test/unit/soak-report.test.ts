import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../local/soak/load';
import {
  type DeliveryOutcome,
  emptyLogTally,
  type LogTally,
  type SoakFindings,
  soakReport,
  tallyLogLine,
} from '../../local/soak/report';

const accepted = (eventId: string, extra: Partial<DeliveryOutcome> = {}): DeliveryOutcome => ({
  kind: 'ota',
  answer: 'accepted',
  eventId,
  action: 'enqueued',
  attempts: 1,
  serverErrors: 0,
  serverErrorsWithoutRetryAfter: 0,
  networkErrors: 0,
  conflicts: 0,
  ...extra,
});

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'INFO', ...fields });
const enqueuedLine = (id: string) =>
  line({ message: 'delivery', outcome: 'accepted', action: 'enqueued', correlation_id: id });
const appliedLine = (id: string) => line({ message: 'event', outcome: 'applied', correlation_id: id });

function tally(lines: readonly string[]): LogTally {
  const logs = emptyLogTally();
  for (const text of lines) tallyLogLine(logs, text);
  return logs;
}

function findings(overrides: Partial<SoakFindings> = {}): SoakFindings {
  return {
    outcomes: [accepted('evt_a'), accepted('evt_b', { action: 'recorded' })],
    ledger: new Map([
      ['evt_a', 'applied'],
      ['evt_b', 'recorded'],
    ]),
    logs: tally([enqueuedLine('evt_a'), appliedLine('evt_a')]),
    deadLetterMessages: 0,
    faultProblems: [],
    ...overrides,
  };
}

const row = (report: ReturnType<typeof soakReport>, label: string) =>
  report.rows.find((r) => r.label.trim() === label);
const missed = (report: ReturnType<typeof soakReport>) => report.missed.map((r) => r.label.trim());

describe('the soak report', () => {
  it('passes a run where every answered event reached a final ledger status once', () => {
    const report = soakReport(findings());
    expect(missed(report)).toEqual([]);
    expect(row(report, 'applied once')?.value).toBe(1);
    expect(row(report, 'recorded')?.value).toBe(1);
  });

  it('counts an event lost when its ledger entry is not final or is missing', () => {
    const report = soakReport(
      findings({
        outcomes: [accepted('evt_a'), accepted('evt_q'), { ...accepted('evt_m'), answer: 'duplicate' }],
        ledger: new Map([
          ['evt_a', 'applied'],
          ['evt_q', 'enqueued'],
        ]),
      }),
    );
    expect(missed(report)).toEqual(['lost']);
    expect(row(report, 'lost')?.examples).toEqual(['evt_q (enqueued)', 'evt_m (missing)']);
  });

  it('counts an event queued twice only from two accepted, enqueued deliveries in the logs', () => {
    const logs = tally([
      enqueuedLine('evt_a'),
      enqueuedLine('evt_a'),
      enqueuedLine('evt_b'),
      line({ message: 'delivery', outcome: 'duplicate', correlation_id: 'evt_b' }),
      line({
        message: 'delivery refused',
        outcome: 'refused',
        error: 'enqueue_failed',
        correlation_id: 'evt_b',
      }),
      'not json',
    ]);
    const report = soakReport(findings({ logs }));
    expect(missed(report)).toEqual(['queued twice']);
    expect(row(report, 'queued twice')?.examples).toEqual(['evt_a']);
  });

  it('misses its target for a 5xx without Retry-After, a refusal, a delivery given up and a dead letter', () => {
    const report = soakReport(
      findings({
        outcomes: [
          accepted('evt_a', { serverErrors: 2, serverErrorsWithoutRetryAfter: 1 }),
          { ...accepted('evt_b'), answer: 'refused', refusal: '401 invalid_signature' },
          { ...accepted('evt_c'), answer: 'gave_up', refusal: 'after 20 attempts' },
        ],
        logs: tally([line({ message: 'event', outcome: 'dead_lettered', correlation_id: 'evt_a' })]),
      }),
    );
    expect(missed(report)).toEqual([
      'refused (4xx)',
      'gave up (no 200 in time)',
      'without Retry-After',
      'dead-lettered',
    ]);
    expect(row(report, 'with Retry-After')?.value).toBe(1);
  });

  it('counts messages left on the dead-letter queue even without a log line, and fault problems', () => {
    const report = soakReport(
      findings({ deadLetterMessages: 3, faultProblems: ['DynamoDB Local outlived its runtime'] }),
    );
    expect(missed(report)).toEqual(['dead-lettered', 'fault problems']);
    expect(row(report, 'dead-lettered')?.value).toBe(3);
  });
});

describe('Retry-After as a sender reads it', () => {
  it('takes seconds or an HTTP date, and nothing else', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 01 Jun 2026 12:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
