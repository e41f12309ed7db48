import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_PAGE_SIZE } from '../../../lambdas/read/router';
import type { Page } from '../../../lambdas/read/wire';
import { collectPages, type OpsApi, type PageRequest } from '../api';
import type { CliSession } from '../io';
import { type Columns, printPage } from '../output';
import { openTarget, type Target, targetOptionsOf } from '../target';

/** The target the program's global options name (--url, or --stack with --region and --profile). */
function targetOf(cli: CliSession, command: Command): Promise<Target> {
  return openTarget(targetOptionsOf(command), cli.io.env);
}

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a positive number.`);
  }
  return number;
}

function pageSize(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a page size: give a whole number from 1 to ${MAX_PAGE_SIZE}, and --all for more.`,
    );
  }
  return number;
}

const DURATION = /^(\d+)([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An ISO instant as given, or `30m`, `6h`, `2d` for that long before now. */
export function instant(value: string): string {
  const duration = DURATION.exec(value);
  if (duration) {
    const unit = duration[2] as keyof typeof UNIT_MS;
    return new Date(Date.now() - Number(duration[1]) * UNIT_MS[unit]).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError(
    `${JSON.stringify(value)} is neither an ISO instant (2025-06-01T09:00:00Z) nor a duration back from now (30m, 6h, 2d).`,
  );
}

/** A calendar date, YYYY-MM-DD. */
export function isoDate(value: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return value;
  throw new InvalidArgumentError(`${JSON.stringify(value)} is not a date: write YYYY-MM-DD.`);
}

export function choice<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not one of ${values.join(', ')}.`);
  };
}

export interface TargetCommandSpec<F> {
  readonly description: string;
  /** Positional arguments as commander declares them (`<jobId>`), with what each is. */
  readonly arguments?: readonly (readonly [name: string, description?: string])[];
  /** The command's own options, declared before --json so that help reads them first. */
  readonly options?: (command: Command) => Command;
  /** What --json prints. */
  readonly json: string;
  readonly run: (target: Target, flags: F & { readonly json?: boolean }, args: string[]) => Promise<void>;
}

/**
 * `<parent> <name>` as every command of the read / admin API is declared: its arguments and options, then
 * --json, and an action given the target the global options name (--url, or --stack with --region and --profile).
 */
export function targetCommand<F extends object = object>(
  cli: CliSession,
  parent: Command,
  name: string,
  spec: TargetCommandSpec<F>,
): Command {
  const command = parent.command(name).description(spec.description);
  for (const [argument, description] of spec.arguments ?? []) command.argument(argument, description);
  return (spec.options ? spec.options(command) : command)
    .option('--json', spec.json)
    .action(async (...params: unknown[]) => {
      // commander passes the arguments, then the options, then the command itself.
      const self = params.at(-1) as Command;
      await spec.run(await targetOf(cli, self), params.at(-2) as F, params.slice(0, -2) as string[]);
    });
}

/** --limit, --cursor and --all, as every paginated listing takes them. */
export function pagingOptions(command: Command): Command {
  return command
    .addOption(pageSizeOption())
    .option('--cursor <cursor>', 'start from this page (the nextCursor of the page before)')
    .option('--all', 'follow nextCursor to the last page');
}

export function pageSizeOption(): Option {
  return new Option(
    '--limit <n>',
    `items per page (1 to ${MAX_PAGE_SIZE}; the API's default when absent)`,
  ).argParser(pageSize);
}

export interface ListFlags {
  readonly limit?: number;
  readonly cursor?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

export function pageFlags(flags: ListFlags): { limit?: number; cursor?: string; all?: boolean } {
  return {
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
    ...(flags.all ? { all: true } : {}),
  };
}

/** The filters among `keys` that were given, in that order: an absent or empty one is left out of the query. */
export function givenFilters<F extends object, K extends keyof F>(
  flags: F,
  keys: readonly K[],
): { [P in K]?: NonNullable<F[P]> } {
  return Object.fromEntries(keys.filter((key) => flags[key]).map((key) => [key, flags[key]])) as {
    [P in K]?: NonNullable<F[P]>;
  };
}

export interface ListCommandSpec<T, F> {
  readonly description: string;
  /** The listing's own options, declared before the paging ones so that help reads filters first. */
  readonly filters?: (command: Command) => Command;
  readonly fetch: (api: OpsApi, flags: F, page: PageRequest) => Promise<Page<T>>;
  readonly columns: Columns<T>;
  /** What to print instead of an empty table. */
  readonly empty: string | ((flags: F) => string);
}

/** `<parent> list`: the filters and paging flags, every page asked for, then a table or JSON. */
export function listCommand<T, F extends object = object>(
  cli: CliSession,
  parent: Command,
  spec: ListCommandSpec<T, F>,
): Command {
  return targetCommand<ListFlags & F>(cli, parent, 'list', {
    description: spec.description,
    options: (list) => pagingOptions(spec.filters ? spec.filters(list) : list),
    json: 'print the page as JSON ({ items, nextCursor })',
    run: async ({ api }, flags) => {
      const page = await collectPages((request) => spec.fetch(api, flags, request), pageFlags(flags));
      printPage<T>(cli, page, spec.columns, {
        json: flags.json ?? false,
        empty: typeof spec.empty === 'string' ? spec.empty : spec.empty(flags),
      });
    },
  });
}

/** Progress bars and lines only when the answer is for a human. */
export function showsProgress(flags: { readonly json?: boolean }): boolean {
  return !flags.json;
}
