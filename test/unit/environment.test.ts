import { describe, expect, it } from 'vitest';
import { readApplyEnvironment } from '../../lambdas/apply/env';
import { readIngestEnvironment } from '../../lambdas/ingest/env';
import { readReadApiEnvironment } from '../../lambdas/read/env';
import { readReconcileEnvironment, readReconcileWorkerEnvironment } from '../../lambdas/reconcile/env';
import { ConfigurationError } from '../../lambdas/shared/errors';
import {
  EVENTS_DLQ,
  EVENTS_QUEUE,
  PARITY_DLQ,
  RECONCILE_DLQ,
  RECONCILE_WORK,
  REPLAY_QUEUE,
  TABLES as TOPOLOGY_TABLES,
} from '../../lambdas/shared/topology';

const CONFIG = JSON.stringify({
  version: 1,
  sources: [{ id: 'ota-1', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota-1/webhook-signing' }] }],
});
const TABLES = {
  LEDGER_TABLE_NAME: 'ledger',
  ARI_TABLE_NAME: 'ari',
  MAPPINGS_TABLE_NAME: 'mappings',
  REVIEW_TABLE_NAME: 'review',
  RESERVATIONS_TABLE_NAME: 'reservations',
  GUESTS_TABLE_NAME: 'guests',
  PARITY_TABLE_NAME: 'parity',
  AUDIT_TABLE_NAME: 'audit',
  REJECTIONS_TABLE_NAME: 'rejections',
  CONTROLS_TABLE_NAME: 'controls',
  OPERATION_REQUESTS_TABLE_NAME: 'operation-requests',
  RECONCILE_RUN_LOG_TABLE_NAME: 'run-log',
};
const QUEUE = 'http://127.0.0.1:4566/000000000000/paritysync-events';
const WORK_QUEUE = 'http://127.0.0.1:4566/000000000000/paritysync-reconcile-work';
/** The dead-letter queues the read function lists and redrives, and the queue that starts replay jobs. */
const DLQS = {
  EVENTS_DLQ_URL: 'http://127.0.0.1:4566/000000000000/paritysync-events-dlq',
  RECONCILE_DLQ_URL: 'http://127.0.0.1:4566/000000000000/paritysync-reconcile-dlq',
  PARITY_DLQ_URL: 'http://127.0.0.1:4566/000000000000/paritysync-parity-dlq',
  REPLAY_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/paritysync-replay-work',
};

function problemsOf(read: () => unknown): string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigurationError) return [error.message, ...error.problems.map((p) => p.path)];
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('function environments, validated at cold start', () => {
  it('reads the ingest environment and the configuration compiled into it', () => {
    const environment = readIngestEnvironment({
      PARITYSYNC_CONFIG_JSON: CONFIG,
      LEDGER_TABLE_NAME: 'ledger',
      REJECTIONS_TABLE_NAME: 'rejections',
      EVENT_QUEUE_URL: QUEUE,
    });
    expect(environment.tables.ledger).toBe('ledger');
    expect(environment.tables.rejections).toBe('rejections');
    expect(environment.config.sources.map((s) => s.id)).toEqual(['ota-1']);
  });

  it('names every missing variable', () => {
    const problems = problemsOf(() => readIngestEnvironment({ PARITYSYNC_CONFIG_JSON: CONFIG }));
    expect(problems[0]).toMatch(/^Invalid ingest environment/);
    expect(problems).toEqual(
      expect.arrayContaining(['LEDGER_TABLE_NAME', 'REJECTIONS_TABLE_NAME', 'EVENT_QUEUE_URL']),
    );
    expect(problemsOf(() => readApplyEnvironment({ ...TABLES, PARITYSYNC_CONFIG_JSON: CONFIG }))).toContain(
      'EVENT_QUEUE_URL',
    );
  });

  it('refuses a configuration that is not JSON, or not valid, naming the field', () => {
    const notJson = problemsOf(() =>
      readIngestEnvironment({
        PARITYSYNC_CONFIG_JSON: '{"secrets": [{"value": "oops',
        LEDGER_TABLE_NAME: 'ledger',
        REJECTIONS_TABLE_NAME: 'rejections',
        EVENT_QUEUE_URL: QUEUE,
      }),
    );
    expect(notJson[0]).toBe('Invalid ingest environment:\n  - PARITYSYNC_CONFIG_JSON: is not valid JSON');
    const invalid = JSON.stringify({ version: 1, sources: [{ id: 'Bad Id', kind: 'ota' }] });
    expect(
      problemsOf(() =>
        readReadApiEnvironment({
          ...TABLES,
          ...DLQS,
          PARITYSYNC_CONFIG_JSON: invalid,
          EVENT_QUEUE_URL: QUEUE,
        }),
      ),
    ).toContain('PARITYSYNC_CONFIG_JSON.sources[0].id');
  });

  it('names every offending variable and every configuration problem in one error', () => {
    const weak = 'tiny-secret';
    const invalid = JSON.stringify({
      version: 1,
      sources: [
        { id: 'ota-1', kind: 'ota', secrets: [{ value: weak }] },
        { id: 'ota-1', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota-1/webhook-signing' }] },
      ],
    });
    const [message, ...paths] = problemsOf(() =>
      readIngestEnvironment({ PARITYSYNC_CONFIG_JSON: invalid, EVENT_QUEUE_URL: 'not a url' }),
    );
    expect(paths).toEqual([
      'PARITYSYNC_CONFIG_JSON.sources[0].secrets[0].value',
      'PARITYSYNC_CONFIG_JSON.sources[1].id',
      'LEDGER_TABLE_NAME',
      'REJECTIONS_TABLE_NAME',
      'EVENT_QUEUE_URL',
    ]);
    expect(message).toContain('is 11 characters long');
    expect(message).not.toContain(weak);
  });

  it('gives the read function the parity table and the run log, and refuses to start it without them', () => {
    const { PARITY_TABLE_NAME: _parity, RECONCILE_RUN_LOG_TABLE_NAME: _runs, ...withoutParity } = TABLES;
    const problems = problemsOf(() =>
      readReadApiEnvironment({
        ...withoutParity,
        ...DLQS,
        PARITYSYNC_CONFIG_JSON: CONFIG,
        EVENT_QUEUE_URL: QUEUE,
      }),
    );
    expect(problems[0]).toMatch(/^Invalid read API environment/);
    expect(problems.slice(1)).toEqual(['PARITY_TABLE_NAME', 'RECONCILE_RUN_LOG_TABLE_NAME']);
    const read = readReadApiEnvironment({
      ...TABLES,
      ...DLQS,
      PARITYSYNC_CONFIG_JSON: CONFIG,
      EVENT_QUEUE_URL: QUEUE,
    });
    expect(read.tables.parity).toBe('parity');
    const apply = readApplyEnvironment({
      ...withoutParity,
      PARITYSYNC_CONFIG_JSON: CONFIG,
      EVENT_QUEUE_URL: QUEUE,
    });
    expect(apply.tables).not.toHaveProperty('parity');
  });

  it('gives the apply function the guest table and the read function none', () => {
    const apply = readApplyEnvironment({ ...TABLES, PARITYSYNC_CONFIG_JSON: CONFIG, EVENT_QUEUE_URL: QUEUE });
    const read = readReadApiEnvironment({
      ...TABLES,
      ...DLQS,
      PARITYSYNC_CONFIG_JSON: CONFIG,
      EVENT_QUEUE_URL: QUEUE,
    });
    expect(apply.tables.guests).toBe('guests');
    expect(read.tables).not.toHaveProperty('guests');
    expect([apply.serviceName, read.serviceName]).toEqual(['paritysync-apply', 'paritysync-read']);
  });

  it('reads each table and the queue under the variable its topology definition names', () => {
    // What the stack and the local runtime set: every definition's variable, from the same topology.
    const env = {
      PARITYSYNC_CONFIG_JSON: CONFIG,
      ...Object.fromEntries(TOPOLOGY_TABLES.map((table) => [table.environmentName, `table-${table.id}`])),
      [EVENTS_QUEUE.environmentName]: QUEUE,
      [EVENTS_DLQ.environmentName]: DLQS.EVENTS_DLQ_URL,
      [RECONCILE_DLQ.environmentName]: DLQS.RECONCILE_DLQ_URL,
      [PARITY_DLQ.environmentName]: DLQS.PARITY_DLQ_URL,
      [REPLAY_QUEUE.environmentName]: DLQS.REPLAY_QUEUE_URL,
      [RECONCILE_WORK.environmentName]: WORK_QUEUE,
    };
    expect(readIngestEnvironment(env)).toMatchObject({
      tables: { ledger: 'table-DeliveryLedger', rejections: 'table-Rejections' },
      queues: { events: QUEUE },
    });
    expect(readApplyEnvironment(env)).toMatchObject({
      queues: { events: QUEUE },
      tables: {
        ledger: 'table-DeliveryLedger',
        ari: 'table-AriState',
        mappings: 'table-Mappings',
        review: 'table-Review',
        reservations: 'table-Reservations',
        guests: 'table-Guests',
        controls: 'table-Controls',
      },
    });
    expect(readReadApiEnvironment(env)).toMatchObject({
      queues: {
        events: QUEUE,
        eventsDeadLetters: DLQS.EVENTS_DLQ_URL,
        reconcileDeadLetters: DLQS.RECONCILE_DLQ_URL,
        parityDeadLetters: DLQS.PARITY_DLQ_URL,
        replay: DLQS.REPLAY_QUEUE_URL,
      },
      tables: {
        ledger: 'table-DeliveryLedger',
        ari: 'table-AriState',
        mappings: 'table-Mappings',
        review: 'table-Review',
        reservations: 'table-Reservations',
        parity: 'table-ParityFindings',
        audit: 'table-ReconcileAudit',
        rejections: 'table-Rejections',
        controls: 'table-Controls',
      },
    });
    expect(readReconcileEnvironment(env).tables).toEqual({
      runLog: 'table-ReconcileRunLog',
      runs: 'table-ReconcileRuns',
    });
    expect(readReconcileEnvironment(env).queues).toEqual({ work: WORK_QUEUE });
    expect(readReconcileEnvironment(env).serviceName).toBe('paritysync-reconcile');
    expect(readReconcileWorkerEnvironment(env)).toMatchObject({
      tables: {
        ari: 'table-AriState',
        mappings: 'table-Mappings',
        checkpoints: 'table-ReconcileCheckpoints',
        audit: 'table-ReconcileAudit',
        parity: 'table-ParityFindings',
        runLog: 'table-ReconcileRunLog',
      },
      queues: { work: WORK_QUEUE },
      serviceName: 'paritysync-reconcile',
    });
  });

  it('redrives a whole dead-letter queue with a move task only where DLQ_REDRIVE says so, with both queue ARNs', () => {
    const base = { ...TABLES, ...DLQS, PARITYSYNC_CONFIG_JSON: CONFIG, EVENT_QUEUE_URL: QUEUE };
    expect(readReadApiEnvironment(base).moveTask).toBeUndefined();
    const arns = {
      EVENTS_DLQ_ARN: 'arn:aws:sqs:eu-west-1:111122223333:ParitySync-EventsDlq-Ab12',
      EVENT_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:111122223333:ParitySync-Events-Cd34',
    };
    // The ARNs alone do not switch it: only the explicit setting does.
    expect(readReadApiEnvironment({ ...base, ...arns }).moveTask).toBeUndefined();
    expect(readReadApiEnvironment({ ...base, ...arns, DLQ_REDRIVE: 'move-task' }).moveTask).toEqual({
      deadLetterQueueArn: arns.EVENTS_DLQ_ARN,
      sourceQueueArn: arns.EVENT_QUEUE_ARN,
    });
    const { CONTROLS_TABLE_NAME: _controls, ...withoutControls } = base;
    const [message, ...paths] = problemsOf(() =>
      readReadApiEnvironment({ ...withoutControls, DLQ_REDRIVE: 'move-task', EVENTS_DLQ_ARN: 'not-an-arn' }),
    );
    // One error names them all, the table missing besides.
    expect(paths).toEqual(['CONTROLS_TABLE_NAME', 'EVENTS_DLQ_ARN', 'EVENT_QUEUE_ARN']);
    expect(message).toMatch(/^Invalid read API environment/);
    expect(problemsOf(() => readReadApiEnvironment({ ...base, DLQ_REDRIVE: 'sometimes' }))).toContain(
      'DLQ_REDRIVE',
    );
  });
});
