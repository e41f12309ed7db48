import type { ReconcileReport, ReconcileRequest } from '../lambdas/reconcile/service';
import { type FieldProblem, ParitySyncError } from '../lambdas/shared/errors';
import { RECONCILE_NOW_PATH, type ReconcileStreamLine } from './reconciler';

/** Where a run stands: one step per source scan, then one per parity property. */
export interface ReconcileStep {
  readonly done: number;
  readonly total: number;
  /** The scan or parity property being worked on. */
  readonly step: string;
  readonly detail: string;
}

export interface ReconcileNowOptions {
  /** False: `onStep` is not called. @default true */
  readonly progress?: boolean;
  readonly onStep?: (step: ReconcileStep) => void;
  /** Ends the wait (and the request) early, e.g. AbortSignal.timeout. */
  readonly signal?: AbortSignal;
}

/** The local runtime refused the run, or the run failed: its error code and message, as the route gave them. */
export class ReconcileRefusedError extends ParitySyncError {
  readonly status: number | undefined;

  constructor(status: number | undefined, code: string, message: string, fields?: readonly FieldProblem[]) {
    super(code, `${status === undefined ? '' : `${status} `}${code}: ${message}`, fields ? { fields } : {});
    this.status = status;
  }
}

/**
 * The CLI side of "reconcile now": asks the local runtime for a run, follows its progress stream (reported
 * through `onStep`), and returns the final report.
 */
export async function reconcileNow(
  baseUrl: string,
  request: ReconcileRequest,
  options: ReconcileNowOptions = {},
): Promise<ReconcileReport> {
  const response = await fetch(`${baseUrl.replace(/\/+$/, '')}${RECONCILE_NOW_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => ({}))) as {
      error?: string;
      message?: string;
      fields?: FieldProblem[];
    };
    throw new ReconcileRefusedError(
      response.status,
      body.error ?? 'error',
      body.message ?? response.statusText,
      body.fields,
    );
  }

  const emit = options.progress === false ? () => undefined : (options.onStep ?? (() => undefined));
  let total = 1;
  let done = 0;
  let result: ReconcileReport | undefined;
  let failure: { error: string; message: string } | undefined;
  const handle = (line: ReconcileStreamLine) => {
    switch (line.type) {
      case 'plan':
        total = Math.max(1, line.sources.length + line.parityProperties.length);
        emit({
          done,
          total,
          step: line.sources[0] ?? line.parityProperties[0] ?? '-',
          detail: 'starting',
        });
        break;
      case 'page':
        emit({
          done,
          total,
          step: line.propertyId === undefined ? line.sourceId : `${line.sourceId} ${line.propertyId}`,
          detail:
            `${line.progress.pages} pages, ${line.progress.nights} nights, ` +
            `drift ${line.progress.drift.toFixed(2)}%`,
        });
        break;
      case 'source':
        done++;
        emit({
          done,
          total,
          step: scanName(line.result),
          detail: line.result.outcome === 'failed' ? `failed: ${line.result.error}` : line.result.status,
        });
        break;
      case 'parity':
        done++;
        emit({
          done,
          total,
          step: `parity ${line.result.propertyId}`,
          detail: `${line.result.counts.violations} violation(s)`,
        });
        break;
      case 'report':
        result = line.report;
        break;
      case 'error':
        failure = line;
        break;
    }
  };

  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (text.trim() !== '') handle(JSON.parse(text) as ReconcileStreamLine);
      newline = buffered.indexOf('\n');
    }
  }
  if (failure) throw new ReconcileRefusedError(undefined, failure.error, failure.message);
  if (!result) {
    throw new ReconcileRefusedError(
      undefined,
      'no_report',
      'The local runtime ended the run without a report; see its log.',
    );
  }
  return result;
}

/** The summary the CLI prints: one row per source and per parity property. */
export function formatReport(report: ReconcileReport): string {
  const lines = [
    `Reconciliation ${report.dryRun ? '(dry run) ' : ''}from ${report.startedAt} to ${report.finishedAt}`,
  ];
  if (report.sources.length === 0) lines.push('  No polled sources.');
  for (const source of report.sources) {
    if (source.outcome === 'failed') {
      lines.push(
        `  ${source.sourceId}: FAILED ${source.error}: ${source.message} (circuit ${source.circuit})`,
      );
      continue;
    }
    const drift = source.drift.overall;
    lines.push(
      `  ${scanName(source)}: ${source.status}${source.fullPass ? ', full pass' : ''}; ${source.nightsPolled} nights ` +
        `in ${source.pages} pages (${source.requests} requests, ${source.throttled} throttled, ${source.retries} retried)`,
      `    drift ${drift.driftPercent.toFixed(3)}% (${drift.mismatched} of ${drift.compared} fields), ` +
        `${drift.silentMisses} silent misses, ${source.correctedGroups} corrected, ${source.skippedCorrections} skipped`,
    );
    for (const property of source.drift.properties) {
      lines.push(`    ${property.propertyId}: ${property.driftPercent.toFixed(3)}% → ${property.action}`);
    }
    if (source.unmapped.nights > 0) {
      const ids = Object.entries(source.unmapped.ids)
        .filter(([, values]) => values.length > 0)
        .map(([entity, values]) => `${entity} ${values.join(', ')}`)
        .join('; ');
      lines.push(`    ${source.unmapped.nights} nights skipped for want of a mapping (${ids})`);
    }
  }
  for (const property of report.parity) {
    const counts = property.counts;
    lines.push(
      `  parity ${property.propertyId} ${property.from}..${property.to}: ${counts.violations} violation(s), ` +
        `${counts.currencyMismatches} currency mismatch(es) over ${counts.nightsChecked} nights`,
    );
  }
  return lines.join('\n');
}

/** A source, or a source and the provider property it was polled for. */
function scanName(result: { readonly sourceId: string; readonly propertyId?: string }): string {
  return result.propertyId === undefined
    ? result.sourceId
    : `${result.sourceId} (property ${result.propertyId})`;
}
