import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionHeld, DynamoDbTable, type Item, requiredString } from '../shared/dynamodb';
import { LEDGER_STATUSES, type LedgerStatus, MAX_NOTE_LENGTH } from './ports';
import {
  REPLAY_JOB_STATUSES,
  type ReplayCounts,
  type ReplayCursor,
  type ReplayJob,
  type ReplayJobStatus,
  type ReplayJobStore,
  type ReplayStep,
} from './replay-jobs';

/** The Controls item of a replay job. */
export function replayItemKey(jobId: string): string {
  return `replay#${jobId}`;
}

const COUNT_NAMES = ['matched', 'replayed', 'notRetained'] as const satisfies readonly (keyof ReplayCounts)[];

/**
 * Replay jobs in the Controls table. The cursor is kept as one string attribute, so that a page's update can
 * require the very cursor it was read at; the counts are numbers the update adds to.
 */
export class DynamoDbReplayJobStore extends DynamoDbTable implements ReplayJobStore {
  async create(job: ReplayJob): Promise<void> {
    await this.putItem(
      {
        pk: { S: replayItemKey(job.jobId) },
        jobId: { S: job.jobId },
        jobStatus: { S: job.status },
        source: { S: job.request.source },
        from: { S: job.request.from },
        to: { S: job.request.to },
        statuses: { L: job.request.statuses.map((status) => ({ S: status })) },
        cursor: { S: cursorText(job.cursor) },
        ...Object.fromEntries(COUNT_NAMES.map((name) => [name, { N: String(job.counts[name]) }])),
        createdAt: { S: job.createdAt },
        updatedAt: { S: job.updatedAt },
      },
      { onlyNew: true },
    );
  }

  async get(jobId: string): Promise<ReplayJob | undefined> {
    const item = await this.getItem(replayItemKey(jobId));
    return item === undefined ? undefined : toJob(item);
  }

  async cancel(jobId: string, at: string): Promise<ReplayJob | undefined> {
    await this.whileRunning(jobId, 'SET jobStatus = :cancelled, updatedAt = :at', {
      ':cancelled': { S: 'cancelled' },
      ':at': { S: at },
    });
    return this.get(jobId);
  }

  async advance(jobId: string, step: ReplayStep): Promise<boolean> {
    const values: Item = {
      ':read': { S: cursorText(step.from) },
      ':next': { S: cursorText(step.to) },
      ':at': { S: step.at },
      ':status': { S: step.done ? 'done' : 'running' },
    };
    for (const name of COUNT_NAMES) values[`:${name}`] = { N: String(step.add[name]) };
    return this.whileRunning(
      jobId,
      `SET #cursor = :next, updatedAt = :at, jobStatus = :status ADD ${COUNT_NAMES.map((name) => `${name} :${name}`).join(', ')}`,
      values,
      ' AND #cursor = :read',
      { '#cursor': 'cursor' },
    );
  }

  async fail(jobId: string, error: string, at: string): Promise<void> {
    await this.whileRunning(
      jobId,
      'SET jobStatus = :failed, updatedAt = :at, #error = :error',
      {
        ':failed': { S: 'failed' },
        ':at': { S: at },
        ':error': { S: error.slice(0, MAX_NOTE_LENGTH) },
      },
      '',
      { '#error': 'error' },
    );
  }

  private whileRunning(
    jobId: string,
    update: string,
    values: Item,
    condition = '',
    names: Record<string, string> = {},
  ): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: replayItemKey(jobId) } },
          UpdateExpression: update,
          ConditionExpression: `jobStatus = :running${condition}`,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ...values, ':running': { S: 'running' } },
        }),
      ),
    );
  }
}

function cursorText(cursor: ReplayCursor): string {
  return JSON.stringify(cursor.page === undefined ? { status: cursor.status } : cursor);
}

function toJob(item: Item): ReplayJob {
  const text = (name: string) => requiredString(item, name, 'Controls');
  const status = text('jobStatus');
  if (!(REPLAY_JOB_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`Controls item ${item.pk?.S} has unknown replay job status "${status}"`);
  }
  const statuses = (item.statuses?.L ?? []).map((value) => value.S ?? '');
  if (statuses.some((value) => !(LEDGER_STATUSES as readonly string[]).includes(value))) {
    throw new Error(`Controls item ${item.pk?.S} has an unknown ledger status in ${statuses.join(', ')}`);
  }
  const counts = Object.fromEntries(
    COUNT_NAMES.map((name) => [name, Number(item[name]?.N ?? '0')]),
  ) as unknown as ReplayCounts;
  const error = item.error?.S;
  return {
    jobId: text('jobId'),
    status: status as ReplayJobStatus,
    request: {
      source: text('source'),
      from: text('from'),
      to: text('to'),
      statuses: statuses as LedgerStatus[],
    },
    counts,
    cursor: JSON.parse(text('cursor')) as ReplayCursor,
    createdAt: text('createdAt'),
    updatedAt: text('updatedAt'),
    ...(error === undefined ? {} : { error }),
  };
}
