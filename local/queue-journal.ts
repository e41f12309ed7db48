import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  type QueueAttributeName,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from 'zod';

/**
 * What the journal uses of the SQS emulator's app (fauxqs's Fastify instance): an onSend hook, which runs before
 * an answer leaves, and in-process requests to fauxqs's inspection endpoints. Spelled out because fauxqs's
 * declarations do not carry Fastify's types through.
 */
export interface SqsApp {
  addHook(
    name: 'onSend',
    hook: (
      request: { readonly headers: Record<string, string | string[] | undefined>; readonly body: unknown },
      reply: { readonly statusCode: number },
      payload: unknown,
    ) => Promise<unknown>,
  ): unknown;
  inject(options: { method: 'GET'; url: string }): Promise<{ statusCode: number; json(): unknown }>;
}

const MessageAttributeSchema = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  /** Base64, as SQS's JSON protocol carries binary values. */
  BinaryValue: z.string().optional(),
});

const PersistedMessageSchema = z.object({
  id: z.string(),
  body: z.string(),
  attributes: z.record(z.string(), MessageAttributeSchema),
});

const PersistedQueueSchema = z.object({
  name: z.string(),
  attributes: z.record(z.string(), z.string()),
  messages: z.array(PersistedMessageSchema),
});

const SnapshotSchema = z.object({
  format: z.literal(1),
  generation: z.number().int().nonnegative(),
  queues: z.array(PersistedQueueSchema),
});

const JournalLineSchema = PersistedMessageSchema.extend({ queue: z.string() });

export type PersistedMessage = z.infer<typeof PersistedMessageSchema>;
export type PersistedQueue = z.infer<typeof PersistedQueueSchema>;

export interface QueueJournal {
  /** The queues and messages the directory held when it was opened: what to put back into a fresh emulator. */
  readonly recovered: readonly PersistedQueue[];
  /**
   * Makes `app` write every message it accepts to the journal, synced to disk, before the sender is told that
   * it was accepted. Must be called before the app listens. Recording starts with the first `checkpoint`.
   */
  attach(app: SqsApp): void;
  /**
   * Writes the attached app's whole state as the new snapshot and drops the journal files it covers. Runs one at a
   * time; the journal keeps recording while a checkpoint is taken.
   */
  checkpoint(): Promise<void>;
  /** What the directory holds now: the last snapshot and the journal since. */
  saved(): PersistedQueue[];
  /** Stops recording (a last `checkpoint` first, if the state should be kept compact). */
  close(): void;
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = /^journal-(\d+)\.ndjson$/;
/**
 * Actions that change what a checkpoint would contain. A receive does not (in-flight messages are kept as
 * messages), except when it moves one to a dead-letter queue; the next checkpoint records that move.
 */
const MUTATING_ACTIONS = new Set([
  'CreateQueue',
  'DeleteQueue',
  'SetQueueAttributes',
  'PurgeQueue',
  'SendMessage',
  'SendMessageBatch',
  'DeleteMessage',
  'DeleteMessageBatch',
]);
/** Checkpoints after changes come at most this often: each one writes every message the emulator holds. */
const CHECKPOINT_DELAY_MS = 2_000;

/**
 * Durable SQS queues for the local runtime, whose SQS emulator (fauxqs) keeps everything in memory. A snapshot
 * of every queue and message, plus an append-only journal of the messages accepted since that snapshot began:
 *
 * - A message is appended to the journal and fsynced before SQS answers the SendMessage, so nothing the edge was
 *   told is queued can be lost, even if the process is killed right after.
 * - Deletions are not journalled: they reach the disk with the next snapshot, taken within a few seconds of any
 *   change. A message consumed since the last snapshot comes back after a crash, and the consumer's idempotency
 *   absorbs it (SQS itself delivers at least once). So does a message moved to the dead-letter queue since
 *   then, which returns to the queue it was sent to.
 * - A checkpoint first switches the journal to a new file, then reads the state, so a message accepted while it
 *   runs is in the new journal whether or not the state already shows it; older files go once the snapshot is
 *   renamed into place.
 */
export function openQueueJournal(directory: string, onError: (error: unknown) => void): QueueJournal {
  mkdirSync(directory, { recursive: true });
  const { recovered, generation: lastGeneration } = readDirectory(directory);
  let generation = lastGeneration;
  let fd: number | undefined;
  let app: SqsApp | undefined;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const append = (lines: readonly z.infer<typeof JournalLineSchema>[]) => {
    if (fd === undefined || lines.length === 0) return;
    writeSync(fd, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    fsyncSync(fd);
  };

  const scheduleCheckpoint = () => {
    if (timer !== undefined || closed || fd === undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      journal.checkpoint().catch(onError);
    }, CHECKPOINT_DELAY_MS);
    timer.unref();
  };

  const takeCheckpoint = async () => {
    if (app === undefined) throw new Error('No SQS emulator is attached to the queue journal');
    const next = generation + 1;
    const nextFd = openSync(join(directory, `journal-${next}.ndjson`), 'a');
    syncDirectory(directory);
    const previousFd = fd;
    fd = nextFd;
    generation = next;
    if (previousFd !== undefined) closeSync(previousFd);
    const queues = await readQueues(app);
    writeAtomically(directory, SNAPSHOT, JSON.stringify({ format: 1, generation: next, queues }));
    for (const [file, fileGeneration] of journalFiles(directory)) {
      if (fileGeneration < next) rmSync(join(directory, file), { force: true });
    }
  };

  const journal: QueueJournal = {
    recovered,
    attach(target) {
      app = target;
      target.addHook('onSend', async (request, reply, payload) => {
        if (fd === undefined || reply.statusCode !== 200) return payload;
        const amzTarget = request.headers['x-amz-target'];
        const action = typeof amzTarget === 'string' ? amzTarget.replace('AmazonSQS.', '') : '';
        if (!MUTATING_ACTIONS.has(action)) return payload;
        if (action === 'SendMessage' || action === 'SendMessageBatch') {
          // A failed write fails the request: the sender retries, and a duplicate is harmless, a loss is not.
          append(acceptedMessages(action, request.body, payload));
        }
        scheduleCheckpoint();
        return payload;
      });
    },
    checkpoint() {
      running = running.catch(() => undefined).then(takeCheckpoint);
      return running;
    },
    saved: () => readDirectory(directory).recovered,
    close() {
      closed = true;
      clearTimeout(timer);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
  return journal;
}

/**
 * Creates each queue with its saved attributes and sends its messages again, through the emulator's own API.
 * SQS gives every message a new id and a receive count of zero. Returns how many messages were restored.
 */
export async function restoreQueues(sqs: SQSClient, queues: readonly PersistedQueue[]): Promise<number> {
  // Dead-letter queues first: a redrive policy must name a queue that exists.
  const ordered = [...queues].sort(
    (a, b) => Number('RedrivePolicy' in a.attributes) - Number('RedrivePolicy' in b.attributes),
  );
  let restored = 0;
  for (const queue of ordered) {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: queue.name,
        Attributes: queue.attributes as Partial<Record<QueueAttributeName, string>>,
      }),
    );
    for (const message of queue.messages) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: message.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, value]): [string, MessageAttributeValue] => [
              name,
              {
                DataType: value.DataType,
                ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
                ...(value.BinaryValue !== undefined
                  ? { BinaryValue: Buffer.from(value.BinaryValue, 'base64') }
                  : {}),
              },
            ]),
          ),
        }),
      );
      restored += 1;
    }
  }
  return restored;
}

/** What a successful SendMessage or SendMessageBatch put on its queue, from the request and SQS's answer. */
function acceptedMessages(
  action: 'SendMessage' | 'SendMessageBatch',
  requestBody: unknown,
  payload: unknown,
): z.infer<typeof JournalLineSchema>[] {
  const request = requestBody as {
    QueueUrl?: string;
    MessageBody?: string;
    MessageAttributes?: PersistedMessage['attributes'];
    Entries?: { Id?: string; MessageBody?: string; MessageAttributes?: PersistedMessage['attributes'] }[];
  };
  const answer = JSON.parse(String(payload)) as {
    MessageId?: string;
    Successful?: { Id?: string; MessageId?: string }[];
  };
  const queue = queueNameOf(request.QueueUrl ?? '');
  if (action === 'SendMessage') {
    if (answer.MessageId === undefined || request.MessageBody === undefined) return [];
    return [
      { queue, id: answer.MessageId, body: request.MessageBody, attributes: request.MessageAttributes ?? {} },
    ];
  }
  const entries = new Map((request.Entries ?? []).map((entry) => [entry.Id, entry]));
  return (answer.Successful ?? []).flatMap((sent) => {
    const entry = entries.get(sent.Id);
    if (entry?.MessageBody === undefined || sent.MessageId === undefined) return [];
    return [
      { queue, id: sent.MessageId, body: entry.MessageBody, attributes: entry.MessageAttributes ?? {} },
    ];
  });
}

/** `http://127.0.0.1:4566/000000000000/paritysync-events` → `paritysync-events`. */
function queueNameOf(queueUrl: string): string {
  return queueUrl.split('/').pop() ?? queueUrl;
}

interface InspectedQueue {
  readonly attributes: Record<string, string>;
  readonly messages: {
    readonly ready: readonly InspectedMessage[];
    readonly delayed: readonly InspectedMessage[];
    readonly inflight: readonly { readonly message: InspectedMessage }[];
  };
}

interface InspectedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: PersistedMessage['attributes'];
  readonly sentTimestamp: number;
}

/** Attributes SQS derives itself, which CreateQueue does not take. */
const DERIVED_ATTRIBUTES = new Set([
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
]);

/** Every queue and message, read through fauxqs's inspection endpoints (which change nothing). */
export async function readQueues(app: SqsApp): Promise<PersistedQueue[]> {
  const list = await app.inject({ method: 'GET', url: '/_fauxqs/queues' });
  const names = (list.json() as { name: string }[]).map((queue) => queue.name);
  const queues: PersistedQueue[] = [];
  for (const name of names) {
    const response = await app.inject({ method: 'GET', url: `/_fauxqs/queues/${encodeURIComponent(name)}` });
    // Deleted since the list was read.
    if (response.statusCode === 404) continue;
    const inspected = response.json() as InspectedQueue;
    const messages = [
      ...inspected.messages.ready,
      ...inspected.messages.delayed,
      ...inspected.messages.inflight.map((entry) => entry.message),
    ].sort((a, b) => a.sentTimestamp - b.sentTimestamp);
    queues.push({
      name,
      attributes: Object.fromEntries(
        Object.entries(inspected.attributes).filter(([attribute]) => !DERIVED_ATTRIBUTES.has(attribute)),
      ),
      messages: messages.map((message) => ({
        id: message.messageId,
        body: message.body,
        attributes: message.messageAttributes,
      })),
    });
  }
  return queues;
}

/** The snapshot, then every journal line written after it began, with messages in both counted once. */
function readDirectory(directory: string): { recovered: PersistedQueue[]; generation: number } {
  const queues = new Map<
    string,
    { attributes: Record<string, string>; messages: Map<string, PersistedMessage> }
  >();
  let generation = 0;
  const snapshotText = readIfPresent(join(directory, SNAPSHOT));
  if (snapshotText !== undefined) {
    const snapshot = parseOrExplain(SnapshotSchema, snapshotText, join(directory, SNAPSHOT));
    generation = snapshot.generation;
    for (const queue of snapshot.queues) {
      queues.set(queue.name, {
        attributes: queue.attributes,
        messages: new Map(queue.messages.map((message) => [message.id, message])),
      });
    }
  }
  // A snapshot of generation g was read after the journal switched to journal-g: it covers the older files only.
  const covered = generation;
  const journals = journalFiles(directory).sort((a, b) => a[1] - b[1]);
  for (const [file, fileGeneration] of journals) {
    generation = Math.max(generation, fileGeneration);
    if (fileGeneration < covered) continue;
    const lines = readFileSync(join(directory, file), 'utf8').split('\n');
    lines.forEach((text, index) => {
      if (text === '') return;
      let line: z.infer<typeof JournalLineSchema>;
      try {
        line = JournalLineSchema.parse(JSON.parse(text));
      } catch (error) {
        // The last line may be torn by a crash mid-write; its message was never acknowledged.
        if (index === lines.length - 1) return;
        throw corrupt(join(directory, file), `line ${index + 1} is not a journal entry`, error);
      }
      const { queue: name, ...message } = line;
      const queue = queues.get(name) ?? { attributes: {}, messages: new Map() };
      queue.messages.set(message.id, message);
      queues.set(name, queue);
    });
  }
  return {
    generation,
    recovered: [...queues].map(([name, queue]) => ({
      name,
      attributes: queue.attributes,
      messages: [...queue.messages.values()],
    })),
  };
}

function journalFiles(directory: string): [string, number][] {
  return readdirSync(directory).flatMap((file) => {
    const match = JOURNAL.exec(file);
    return match ? [[file, Number(match[1])] as [string, number]] : [];
  });
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOrExplain<T>(schema: z.ZodType<T>, text: string, path: string): T {
  try {
    return schema.parse(JSON.parse(text));
  } catch (error) {
    throw corrupt(path, 'it is not a queue snapshot this version can read', error);
  }
}

function corrupt(path: string, problem: string, cause: unknown): Error {
  return new Error(
    `Cannot restore the local queues from ${path}: ${problem}. Move the data directory aside (its DynamoDB ` +
      'state is in its dynamodb/ folder) and start again.',
    { cause },
  );
}

/** Write to a temporary file, sync it, then rename: a reader sees the old snapshot or the new one, never half. */
function writeAtomically(directory: string, name: string, text: string): void {
  const temporary = join(directory, `${name}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, join(directory, name));
  syncDirectory(directory);
}

/** Makes a file's creation or rename durable, not only its contents. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
