import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE } from '../../lambdas/shared/topology';
import {
  ApplyPipeline,
  type ApplyPipelineProps,
  assertVisibilityCoversTimeout,
} from '../../lib/apply-pipeline';
import { DeliveryLedger } from '../../lib/delivery-ledger';
import { EventQueues } from '../../lib/event-queues';
import type { ParitySyncStack } from '../../lib/paritysync-stack';
import { StateTables } from '../../lib/state-tables';
import { ACCOUNT, logicalId, REGION, synthStack, TEST_CONFIG, testApp } from './app';
import { arnOf, functionPermissions, indexArnOf, permission, viaService, XRAY_PERMISSIONS } from './iam';

type Json = Record<string, unknown>;

let stack: ParitySyncStack;
let template: Template;
let consumerId: string;

beforeAll(() => {
  ({ stack, template } = synthStack());
  consumerId = logicalId(stack.apply.function);
});

function resource(id: string): { Properties: Json } {
  return template.toJSON().Resources[id];
}

/** The event source mapping of a template with exactly one. */
/**
 * The one event source mapping of the events queue: the replay worker has its own on its own queue, and parity on
 * change reads the room-night table's stream.
 */
function onlyEventSourceMapping(of: Template): Json {
  const mappings = (
    Object.values(of.findResources('AWS::Lambda::EventSourceMapping')) as Array<{ Properties: Json }>
  ).filter((mapping) => {
    const source = JSON.stringify(mapping.Properties.EventSourceArn);
    return (
      !source.includes('ReplayJobs') &&
      !source.includes('ReconciliationWork') &&
      !source.includes('StreamArn')
    );
  });
  expect(mappings).toHaveLength(1);
  return mappings[0]?.Properties as Json;
}

/** An ApplyPipeline alone in a stack, for the props the full stack does not set. */
function standalonePipeline(overrides: Partial<ApplyPipelineProps>): Template {
  const standalone = new Stack(testApp(), 'ApplyPipelineAlone', {
    env: { account: ACCOUNT, region: REGION },
  });
  new ApplyPipeline(standalone, 'Apply', {
    config: TEST_CONFIG,
    state: new StateTables(standalone, 'State'),
    ledger: new DeliveryLedger(standalone, 'Ledger'),
    queues: new EventQueues(standalone, 'Queues'),
    ...overrides,
  });
  return Template.fromStack(standalone);
}

describe('apply consumer function', () => {
  it('runs Node.js 24 on arm64 with 512 MB and a 30 s timeout', () => {
    expect(resource(consumerId).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      Handler: 'index.handler',
    });
  });

  it('gets every table name, the queue URL and its Powertools settings from its environment', () => {
    const ref = (construct: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(construct) });
    expect((resource(consumerId).Properties.Environment as Json).Variables).toEqual({
      LEDGER_TABLE_NAME: ref(stack.ledger.table),
      ARI_TABLE_NAME: ref(stack.state.ariState),
      MAPPINGS_TABLE_NAME: ref(stack.state.mappings),
      REVIEW_TABLE_NAME: ref(stack.state.review),
      RESERVATIONS_TABLE_NAME: ref(stack.state.reservations),
      GUESTS_TABLE_NAME: ref(stack.state.guests),
      CONTROLS_TABLE_NAME: ref(stack.state.controls),
      EVENT_QUEUE_URL: ref(stack.queues.queue),
      POWERTOOLS_SERVICE_NAME: 'paritysync-apply',
      POWERTOOLS_METRICS_NAMESPACE: 'ParitySync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('logs to its own log group with a retention', () => {
    const logGroupRef = ((resource(consumerId).Properties.LoggingConfig as Json).LogGroup as { Ref: string })
      .Ref;
    expect(resource(logGroupRef).Properties.RetentionInDays).toBe(30);
  });
});

describe('events queue event source', () => {
  it('feeds the events queue to the consumer with partial batch responses, 10 per batch, 1 s window, 5 at once', () => {
    expect(onlyEventSourceMapping(template)).toEqual({
      EventSourceArn: arnOf(logicalId(stack.queues.queue)),
      FunctionName: { Ref: consumerId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('takes batch size, batching window and concurrency from its props', () => {
    const mapping = onlyEventSourceMapping(
      standalonePipeline({ batchSize: 4, maxBatchingWindow: Duration.seconds(0), maxConcurrency: 20 }),
    );
    expect(mapping).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 4,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    expect(mapping.MaximumBatchingWindowInSeconds ?? 0).toBe(0);
  });

  it("gives the events queue a visibility timeout of at least six times the consumer's timeout", () => {
    const visibility = resource(logicalId(stack.queues.queue)).Properties.VisibilityTimeout as number;
    const timeout = resource(consumerId).Properties.Timeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('leaves the redrive to the DLQ after maxReceiveCount receives in place', () => {
    expect(resource(logicalId(stack.queues.queue)).Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(logicalId(stack.queues.deadLetterQueue)),
      maxReceiveCount: EVENTS_QUEUE.maxReceiveCount,
    });
  });
});

describe('visibility timeout guard', () => {
  it('accepts exactly six times the timeout and refuses one second less', () => {
    expect(() => assertVisibilityCoversTimeout(180, Duration.seconds(30))).not.toThrow();
    expect(() => assertVisibilityCoversTimeout(179, Duration.seconds(30))).toThrow(/at least 180 s/);
  });

  it('fails the synth, naming both settings, when the consumer timeout outgrows the queue', () => {
    const tooLong = Duration.seconds(EVENTS_QUEUE.visibilityTimeoutSeconds / 6 + 1);
    expect(() => standalonePipeline({ timeout: tooLong })).toThrow(
      new RegExp(
        `visibility timeout \\(${EVENTS_QUEUE.visibilityTimeoutSeconds} s.*visibilityTimeoutSeconds.*timeout \\(${tooLong.toSeconds()} s\\)`,
      ),
    );
  });
});

describe('apply consumer permissions', () => {
  const dynamo = (actions: string[], resource: Json) =>
    actions.map((a) => permission(`dynamodb:${a}`, resource));

  it('has exactly the actions the consumer needs, each on its own table, index or key', () => {
    const table = (construct: Parameters<typeof logicalId>[0]) => arnOf(logicalId(construct));
    const { state } = stack;
    const keyId = state.personalDataKey ? logicalId(state.personalDataKey) : 'missing';
    const queue = arnOf(logicalId(stack.queues.queue));
    const expected = [
      ...dynamo(['UpdateItem'], table(state.ariState)),
      ...dynamo(['GetItem', 'PutItem'], table(state.mappings)),
      ...dynamo(['PutItem', 'UpdateItem'], table(state.reservations)),
      ...dynamo(['UpdateItem'], table(state.guests)),
      ...dynamo(['PutItem', 'DeleteItem'], table(state.review)),
      ...dynamo(['Query'], indexArnOf(logicalId(state.review), 'byWaitingFor')),
      // Whether a source is on hold: read only, never set or ended by the consumer.
      ...dynamo(['GetItem'], table(state.controls)),
      ...dynamo(['GetItem', 'UpdateItem'], table(stack.ledger.table)),
      // Decrypt only, through DynamoDB in any region of the global tables: DynamoDB generates the data keys.
      permission('kms:Decrypt', arnOf(keyId), viaService('dynamodb')),
      // Re-queueing to the events queue under the key; consuming it (CDK's event source grant) decrypts.
      permission('kms:GenerateDataKey', arnOf(keyId), viaService('sqs')),
      permission('kms:Decrypt', arnOf(keyId), viaService('sqs')),
      permission('kms:Decrypt', arnOf(keyId)),
      // Consuming, granted by the event source mapping; SendMessage re-queues parked events.
      ...[
        'ChangeMessageVisibility',
        'DeleteMessage',
        'GetQueueAttributes',
        'GetQueueUrl',
        'ReceiveMessage',
        'SendMessage',
      ].map((action) => permission(`sqs:${action}`, queue)),
      // Active tracing.
      ...XRAY_PERMISSIONS,
    ].sort();
    expect(functionPermissions(template, consumerId)).toEqual(expected);
  });

  it('can never scan, batch, manage tables or use a wildcard', () => {
    const actions = functionPermissions(template, consumerId).map((p) => p.split(' ')[0] as string);
    for (const action of actions) {
      expect(action).not.toMatch(/\*|Scan|Batch|Table|PartiQL|Describe|Export|Restore|Backup/);
    }
  });
});
