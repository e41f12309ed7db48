import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsRedrivableDeadLetterQueue } from '../../lambdas/queue/sqs-dead-letters';
import { systemClock } from '../../lambdas/shared/clock';

// The local SQS emulator has no message move tasks, so the contract suite covers the resend path only. Here the
// move-task path talks, through the real SDK client, to a loopback endpoint that answers SQS's JSON protocol for
// the two operations it uses, and records what it was asked.

const DLQ_ARN = 'arn:aws:sqs:eu-west-1:111122223333:ParitySync-EventsDlq-Ab12';
const EVENTS_ARN = 'arn:aws:sqs:eu-west-1:111122223333:ParitySync-Events-Cd34';

interface Call {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

let server: Server;
let calls: Call[];
let answers: Record<string, unknown>;
let client: SQSClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
      calls.push({ operation, input: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
      const answer = answers[operation];
      if (answer === undefined) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: operation }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new SQSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  calls = [];
  answers = {};
});

function queue(moveTask: boolean) {
  return new SqsRedrivableDeadLetterQueue(client, {
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ParitySync-EventsDlq-Ab12',
    sourceQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ParitySync-Events-Cd34',
    clock: systemClock,
    ...(moveTask ? { moveTask: { deadLetterQueueArn: DLQ_ARN, sourceQueueArn: EVENTS_ARN } } : {}),
  });
}

describe('a dead-letter queue configured for move tasks', () => {
  it('redrives the whole queue by starting one SQS move task from the DLQ to the events queue', async () => {
    answers.StartMessageMoveTask = { TaskHandle: 'task-handle-1' };
    const result = await queue(true).redriveAll(Date.now() + 5_000);
    expect(result).toEqual({ via: 'move-task', taskHandle: 'task-handle-1' });
    expect(calls).toEqual([
      { operation: 'StartMessageMoveTask', input: { SourceArn: DLQ_ARN, DestinationArn: EVENTS_ARN } },
    ]);
  });

  it('reports the latest move task as SQS lists it', async () => {
    answers.ListMessageMoveTasks = {
      Results: [
        {
          TaskHandle: 'task-handle-1',
          Status: 'RUNNING',
          SourceArn: DLQ_ARN,
          DestinationArn: EVENTS_ARN,
          ApproximateNumberOfMessagesMoved: 120,
          ApproximateNumberOfMessagesToMove: 500,
          StartedTimestamp: Date.parse('2026-06-01T12:00:00.000Z'),
        },
      ],
    };
    expect(await queue(true).latestMoveTask()).toEqual({
      taskHandle: 'task-handle-1',
      status: 'RUNNING',
      moved: 120,
      toMove: 500,
      startedAt: '2026-06-01T12:00:00.000Z',
    });
    expect(calls).toEqual([
      { operation: 'ListMessageMoveTasks', input: { SourceArn: DLQ_ARN, MaxResults: 1 } },
    ]);
  });

  it('knows no move task when none ran, and asks nothing where move tasks are not configured', async () => {
    answers.ListMessageMoveTasks = { Results: [] };
    expect(await queue(true).latestMoveTask()).toBeUndefined();
    calls = [];
    expect(await queue(false).latestMoveTask()).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
