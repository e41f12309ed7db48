import type { Command } from 'commander';
import type {
  ItemCountsView,
  ReconcileRunDetailView,
  ReconcileRunSourceView,
  ReconcileRunView,
} from '../../../lambdas/read/wire';
import { formatReport } from '../../../local/reconcile-client';
import { collectPages } from '../api';
import type { CliSession } from '../io';
import { type Columns, printJson, printPage } from '../output';
import { startProgress } from '../progress';
import { instant, type ListFlags, pageFlags, pagingOptions, targetCommand } from './common';

/** A row of `reconcile runs`: one per run and source polled. */
type RunRow = { readonly run: ReconcileRunView; readonly source?: ReconcileRunSourceView };

export function registerReconcile(program: Command, cli: CliSession): void {
  const reconcile = targetCommand<{ source?: string[]; dryRun?: boolean; parity: boolean }>(
    cli,
    program,
    'reconcile',
    {
      description:
        'Run one reconciliation now (poll, measure and correct drift, check parity): on the local runtime with ' +
        'a step per source, on a stack by invoking its reconcile function and following the run to its end',
      options: (command) =>
        command
          .option('-s, --source <sourceId...>', 'only these polled sources (default: every polled source)')
          .option('--dry-run', 'measure and report drift without writing anything')
          .option('--no-parity', 'skip the rate parity check'),
      json: 'print the full report (locally) or the run (on a stack) as JSON instead of the summary',
      run: async (target, flags) => {
        const progress = startProgress('reconcile', { enabled: !flags.json, stream: cli.io.stderr });
        let outcome: Awaited<ReturnType<typeof target.reconcile>>;
        try {
          outcome = await target.reconcile(
            {
              ...(flags.source ? { sourceIds: flags.source } : {}),
              ...(flags.dryRun ? { dryRun: true } : {}),
              parity: flags.parity,
            },
            (step) =>
              progress.update({ value: step.done, total: step.total, step: step.step, detail: step.detail }),
          );
        } finally {
          progress.stop();
        }
        if (outcome.kind === 'report') {
          const { report } = outcome;
          if (flags.json) printJson(cli, report);
          else cli.print(formatReport(report));
          if (report.sources.some((source) => source.outcome === 'failed')) cli.fail();
          return;
        }
        if (flags.json) printJson(cli, outcome.run);
        else cli.print(formatRun(outcome.run));
        if (outcome.run.items.failed > 0) cli.fail();
      },
    },
  );

  targetCommand<{ source?: string; from?: string; to?: string } & ListFlags>(cli, reconcile, 'runs', {
    description:
      "Reconciliation runs, newest first; with --source, that source's drift, silent misses and corrections in " +
      'each; with a run id, that run with its drift per source and property and its work items',
    arguments: [['[runId]', 'one run (default: list the runs of the window)']],
    options: (runs) =>
      pagingOptions(
        runs
          .option(
            '-s, --source <sourceId>',
            "only the runs that polled this source, with that source's figures",
          )
          .option(
            '--from <instant>',
            'started at or after (ISO instant, or 30m, 6h, 2d ago; default 7 days ago)',
            instant,
          )
          .option('--to <instant>', 'started before (ISO instant, or a duration ago; default now)', instant),
      ),
    json: 'print the runs ({ items, nextCursor }) or the run as JSON',
    run: async ({ api }, ownFlags, [runId]) => {
      // `reconcile` takes --source and --json too, and commander hands them to it wherever they stand.
      const parent = reconcile.opts<{ source?: string[]; json?: boolean }>();
      const flags = {
        ...ownFlags,
        ...(ownFlags.source === undefined && parent.source !== undefined ? { source: parent.source[0] } : {}),
        ...(ownFlags.json === undefined && parent.json !== undefined ? { json: parent.json } : {}),
      };
      if (runId !== undefined) {
        const run = await api.getReconcileRun(runId);
        if (flags.json) printJson(cli, run);
        else cli.print(formatRun(run));
        return;
      }
      const page = await collectPages(
        (request) =>
          api.listReconcileRuns({
            ...request,
            ...(flags.source === undefined ? {} : { source: flags.source }),
            ...(flags.from === undefined ? {} : { from: flags.from }),
            ...(flags.to === undefined ? {} : { to: flags.to }),
          }),
        pageFlags(flags),
      );
      if (flags.json) {
        printPage(cli, page, [], { json: true, empty: '' });
        return;
      }
      const rows: RunRow[] = page.items.flatMap((run) =>
        run.sources.length === 0 ? [{ run }] : run.sources.map((source) => ({ run, source })),
      );
      // The listing carries a source's figures only when asked for one source: a run's rows per source are not
      // read for every run of the window.
      const figures: Columns<RunRow> =
        flags.source === undefined
          ? []
          : [
              ['SOURCE', (r) => r.source?.sourceId],
              ['NIGHTS', (r) => r.source?.nightsPolled],
              ['DRIFT %', (r) => r.source?.driftPercent.toFixed(3)],
              ['SILENT MISSES', (r) => r.source?.silentMisses],
              ['CORRECTED', (r) => r.source?.correctedGroups],
            ];
      printPage<RunRow>(
        cli,
        { items: rows, nextCursor: page.nextCursor },
        [
          ['RUN', (r) => r.run.runId],
          ['STARTED', (r) => r.run.startedAt],
          ['STATUS', (r) => r.run.status + (r.run.dryRun ? ' (dry run)' : '')],
          ['ITEMS', (r) => itemsOf(r.source?.items ?? r.run.items)],
          ...figures,
        ],
        { empty: 'No reconciliation run started in that window.' },
      );
    },
  });
}

function itemsOf(items: ItemCountsView): string {
  return `${items.done}/${items.planned}${items.failed > 0 ? ` (${items.failed} failed)` : ''}`;
}

/** A run as the CLI prints it: its state, then per source its drift and per property the action taken. */
export function formatRun(run: ReconcileRunDetailView): string {
  const lines = [
    `Reconciliation run ${run.runId} ${run.dryRun ? '(dry run) ' : ''}${run.status}: started ${run.startedAt}` +
      `${run.completedAt ? `, completed ${run.completedAt}` : ''}; items ${itemsOf(run.items)}; ` +
      `threshold ${run.thresholdPercent}%`,
  ];
  if (run.sources.length === 0) lines.push('  No polled sources.');
  for (const source of run.sources) {
    lines.push(
      `  ${source.sourceId}: items ${itemsOf(source.items)}; ${source.nightsPolled} nights, ` +
        `drift ${source.driftPercent.toFixed(3)}% (${source.mismatched} of ${source.compared} fields), ` +
        `${source.silentMisses} silent misses, ${source.correctedGroups} corrected` +
        `${source.budgetExhausted > 0 ? `, ${source.budgetExhausted} stopped at the budget` : ''}`,
    );
    for (const property of run.properties.filter((p) => p.sourceId === source.sourceId)) {
      lines.push(
        `    ${property.propertyId}: ${property.driftPercent.toFixed(3)}% → ${property.actions.join(', ')}`,
      );
    }
  }
  if (run.parity.items.planned > 0) {
    lines.push(
      `  parity: ${itemsOf(run.parity.items)} windows, ${run.parity.violations} violation(s), ` +
        `${run.parity.currencyMismatches} currency mismatch(es) over ${run.parity.nightsChecked} nights`,
    );
  }
  for (const item of run.workItems.filter((candidate) => candidate.status === 'failed')) {
    lines.push(`  FAILED ${item.itemId}: ${item.error ?? 'error'}: ${item.message ?? ''}`);
  }
  return lines.join('\n');
}
