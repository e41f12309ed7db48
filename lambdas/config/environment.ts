import * as z from 'zod/mini';
import { ConfigurationError } from '../shared/errors';
import { DEFAULT_METRICS_NAMESPACE } from '../shared/metric-names';
import { DLQ_REDRIVE_ENVIRONMENT, type QueueDefinition, type TableDefinition } from '../shared/topology';
import { formatPath, parseConfig } from './load';
import { type ParitySyncConfig, ParitySyncConfigSchema } from './schema';

/** DynamoDB's own bounds on a table name. */
const TableNameSchema = z.string().check(z.minLength(3), z.maxLength(255));
export const QueueUrlSchema = z.string().check(z.url());

/** The tables a function uses, under the names its code knows them by: `{ ledger: DELIVERY_LEDGER }`. */
export type TableBindings = Readonly<Record<string, TableDefinition>>;

/** The table name of each binding, as read from the environment. */
export type TableNames<B extends TableBindings> = { readonly [K in keyof B]: string };

/** A queue a function sends to: its definition names the variable that carries the URL. */
export type SentQueueDefinition = QueueDefinition & { readonly environmentName: string };

type TableEnvFields<B extends TableBindings> = {
  -readonly [K in keyof B as B[K]['environmentName']]: typeof TableNameSchema;
};

/**
 * Environment schema fields for the tables, keyed by the variables the topology names: the stack and the local
 * runtime set the same variables from the same definitions.
 */
export function tableEnvFields<B extends TableBindings>(tables: B): TableEnvFields<B> {
  return Object.fromEntries(
    Object.values(tables).map((definition) => [definition.environmentName, TableNameSchema]),
  ) as TableEnvFields<B>;
}

/** The validated table names, under the bindings' names. */
export function tableNames<B extends TableBindings>(
  tables: B,
  env: Readonly<Record<B[keyof B]['environmentName'], string>>,
): TableNames<B> {
  const byVariable: Readonly<Record<string, string>> = env;
  return Object.fromEntries(
    Object.entries(tables).map(([name, definition]) => [name, byVariable[definition.environmentName]]),
  ) as TableNames<B>;
}

/** The environment schema field for a queue's URL, keyed by the variable the topology names. */
export function queueUrlEnvField<Q extends SentQueueDefinition>(
  queue: Q,
): Record<Q['environmentName'], typeof QueueUrlSchema> {
  return { [queue.environmentName]: QueueUrlSchema } as Record<Q['environmentName'], typeof QueueUrlSchema>;
}

const QueueArnSchema = z.string().check(z.regex(/^arn:[a-z-]+:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/));

/** The queues of an SQS message move task that sends a whole dead-letter queue back to its source. */
export interface DlqMoveTask {
  readonly deadLetterQueueArn: string;
  readonly sourceQueueArn: string;
}

const {
  mode: DLQ_REDRIVE,
  deadLetterQueueArn: DLQ_ARN,
  sourceQueueArn: SOURCE_ARN,
} = DLQ_REDRIVE_ENVIRONMENT;

/** The variables that make a whole-queue redrive SQS's move task: the setting comes with both queues' ARNs. */
export function dlqMoveTaskEnvironment(task: DlqMoveTask): Record<string, string> {
  return {
    [DLQ_REDRIVE]: 'move-task',
    [DLQ_ARN]: task.deadLetterQueueArn,
    [SOURCE_ARN]: task.sourceQueueArn,
  };
}

/**
 * The whole-queue redrive setting as the read / admin API reads it: `move-task` needs both queues' ARNs; absent
 * (or `resend`), as in the local runtime, the function receives and resends instead.
 */
export const DlqRedriveSchema = z.discriminatedUnion(
  DLQ_REDRIVE,
  [
    z.pipe(
      z.object({
        [DLQ_REDRIVE]: z.literal('move-task'),
        [DLQ_ARN]: QueueArnSchema,
        [SOURCE_ARN]: QueueArnSchema,
      }),
      z.transform((data): { readonly moveTask?: DlqMoveTask } => ({
        moveTask: { deadLetterQueueArn: data[DLQ_ARN], sourceQueueArn: data[SOURCE_ARN] },
      })),
    ),
    z.pipe(
      z.object({
        [DLQ_REDRIVE]: z.optional(z.literal('resend')),
        [DLQ_ARN]: z.optional(QueueArnSchema),
        [SOURCE_ARN]: z.optional(QueueArnSchema),
      }),
      z.transform((): { readonly moveTask?: DlqMoveTask } => ({})),
    ),
  ],
  { error: 'must be move-task, or resend (the default, also when unset)' },
);

/**
 * The validated ParitySync configuration as JSON (compiled into the bundle in AWS, set locally). Its problems
 * are reported with the other variables', as `PARITYSYNC_CONFIG_JSON.sources[0].id`, so that one failed cold
 * start names everything that is wrong.
 */
export const ConfigJsonSchema = z.string().check(
  z.superRefine((text, ctx) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text, which may hold inline secret values.
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON', input: undefined });
      return;
    }
    const result = ParitySyncConfigSchema.safeParse(raw);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message, input: undefined });
    }
  }),
);
export const MetricsNamespaceSchema = z._default(z.string().check(z.minLength(1)), DEFAULT_METRICS_NAMESPACE);

/** Validates a function's environment once at cold start; the error names every offending variable. */
export function validateEnvironment<S extends z.ZodMiniType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  what: string,
): z.output<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.length === 0 ? '(environment)' : formatPath(issue.path),
    message: issue.message,
  }));
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  throw new ConfigurationError(`Invalid ${what} environment:\n${lines}`, problems);
}

/** The configuration compiled into a bundle (or set by the local runtime) as PARITYSYNC_CONFIG_JSON. */
export function parseConfigJson(text: string): ParitySyncConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError('PARITYSYNC_CONFIG_JSON is not valid JSON', [], { cause });
  }
  return parseConfig(raw, 'configuration in PARITYSYNC_CONFIG_JSON');
}
