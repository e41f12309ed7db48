import type { Command } from 'commander';
import { formatReport } from '../../../local/reconcile-client';
import { printJson } from '../output';
import { startProgress } from '../progress';
import { targetCommand } from './common';

export function registerReconcile(program: Command): void {
  targetCommand<{ source?: string[]; dryRun?: boolean; parity: boolean }>(program, 'reconcile', {
    description:
      'Run one reconciliation now (poll, measure and correct drift, check parity): on the local runtime with ' +
      'a step per source, on a stack by invoking its reconcile function',
    options: (reconcile) =>
      reconcile
        .option('-s, --source <sourceId...>', 'only these polled sources (default: every polled source)')
        .option('--dry-run', 'measure and report drift without writing anything')
        .option('--no-parity', 'skip the rate parity check'),
    json: 'print the full report as JSON instead of the summary',
    run: async (target, flags) => {
      const progress = startProgress('reconcile', { enabled: !flags.json });
      let report: Awaited<ReturnType<typeof target.reconcile>>;
      try {
        report = await target.reconcile(
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
      if (flags.json) printJson(report);
      else console.log(formatReport(report));
      if (report.sources.some((source) => source.outcome === 'failed')) process.exitCode = 1;
    },
  });
}
