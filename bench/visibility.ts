/**
 * End-to-end visibility latency on the local stack: a signed rate update POSTed to the edge until all its
 * nights are readable through the read API (edge → ledger → queue → poller → consumer → DynamoDB → read).
 * The baseline, measured in the same run on the same emulator, is the transport floor underneath it: one
 * SQS SendMessage picked up by a waiting long poll. Reported as a ratio; nothing here asserts a duration.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { loadConfigFile } from '../lambdas/config/load';
import type { SourceConfig } from '../lambdas/config/schema';
import { addDays } from '../lambdas/domain/dates';
import { LOCAL_AWS } from '../local/emulators';
import { senderFor } from '../local/senders';
import { startLocalStack } from '../local/start';

const SAMPLES = Number(process.env.BENCH_VISIBILITY_SAMPLES ?? 15);
/** The bar: visible within a second of the delivery. */
export const VISIBILITY_TARGET_MS = 1_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error('not visible in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function visibilityLatency(): Promise<{ medianMs: number; meetsTarget: boolean }> {
  const config = await loadConfigFile('config/local.example.json');
  const source = config.sources.find((s) => s.kind === 'channel-manager') as SourceConfig;
  const secretRef = source.secrets[0];
  const secret = secretRef && 'value' in secretRef ? secretRef.value : '';
  // One line per request from three functions would drown the table.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const stack = await startLocalStack({
    config,
    port: 0,
    prefix: `vis${Date.now().toString(36)}`,
    pollVisibilitySeconds: 1,
  });
  try {
    const sender = senderFor('channel-manager');
    const edge: number[] = [];
    for (let i = 0; i < SAMPLES + 2; i++) {
      const now = new Date();
      // Nights of their own: two updates signed in the same second tie on time, and only one of them may win.
      const from = addDays(now.toISOString().slice(0, 10), 30 + i * 3);
      const to = addDays(from, 2);
      const sample = { ...sender.sample('rate_update', now, randomUUID), date_range: [from, to] };
      const body = Buffer.from(JSON.stringify(sample));
      const started = performance.now();
      const response = await fetch(`${stack.url}/webhooks/${source.id}`, {
        method: 'POST',
        headers: sender.sign(body, { secret, at: now }),
        body,
      });
      const { eventId } = (await response.json()) as { eventId: string };
      await until(async () => {
        const read = await fetch(`${stack.url}/properties/demo-hotel/ari?from=${from}&to=${to}`);
        const { items } = (await read.json()) as { items: { rate?: { eventId?: string } }[] };
        return items.length > 0 && items.every((night) => night.rate?.eventId === eventId) ? true : undefined;
      }, 10_000);
      if (i >= 2) edge.push(performance.now() - started); // the first two warm the pipeline up
    }

    const sqs = new SQSClient({
      endpoint: stack.endpoints.sqsEndpoint,
      ...LOCAL_AWS,
    });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `vis-floor-${randomUUID()}` }));
    const floor: number[] = [];
    for (let i = 0; i < SAMPLES + 2; i++) {
      const waiting = sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the long poll start waiting
      const started = performance.now();
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
      const { Messages = [] } = await waiting;
      const elapsed = performance.now() - started;
      for (const message of Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      if (i >= 2) floor.push(elapsed);
    }

    const medianMs = median(edge);
    console.log('\nVisibility on the local stack: a signed rate update until the read API shows it (ms)');
    console.table([
      {
        'edge → read API median': Math.round(medianMs),
        p95: Math.round(percentile(edge, 0.95)),
        'SQS send → long-poll receive median': Math.round(median(floor)),
        ratio: Number((medianMs / median(floor)).toFixed(1)),
        target: `≤ ${VISIBILITY_TARGET_MS} ms`,
      },
    ]);
    return { medianMs, meetsTarget: percentile(edge, 0.95) <= VISIBILITY_TARGET_MS };
  } finally {
    await stack.stop();
  }
}
