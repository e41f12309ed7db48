/**
 * What a soak run found, from three independent witnesses: the answers the senders got, the runtime's own JSON
 * log lines, and the delivery ledger as the read API shows it after the queue drained. Pure, so that the rules
 * that decide a pass are tested apart from the run.
 */

/** How one delivery ended for its sender, after every retry it made. */
export interface DeliveryOutcome {
  readonly kind: string;
  readonly answer: 'accepted' | 'duplicate' | 'refused' | 'gave_up';
  /** Set once the edge answered 200. */
  readonly eventId?: string;
  readonly action?: 'enqueued' | 'recorded';
  /** The status and error code of a 4xx that ended the delivery, or why the sender gave up. */
  readonly refusal?: string;
  readonly attempts: number;
  readonly serverErrors: number;
  readonly serverErrorsWithoutRetryAfter: number;
  readonly networkErrors: number;
  readonly conflicts: number;
}

/** What the runtime logged, per event id (the logs' `correlation_id`). */
export interface LogTally {
  /** The edge's `delivery` lines with outcome accepted and action enqueued. */
  readonly enqueued: Map<string, number>;
  /** The consumer's `event` lines with outcome applied. */
  readonly applied: Map<string, number>;
  /** The consumer's `event` lines with outcome dead_lettered. */
  readonly deadLettered: Set<string>;
  /** The edge's warnings that an event was queued but its ledger entry not confirmed. */
  unconfirmed: number;
}

export function emptyLogTally(): LogTally {
  return { enqueued: new Map(), applied: new Map(), deadLettered: new Set(), unconfirmed: 0 };
}

/** Counts one line of the runtime's output; anything that is not a JSON log line is ignored. */
export function tallyLogLine(tally: LogTally, line: string): void {
  if (!line.startsWith('{')) return;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const id = typeof entry.correlation_id === 'string' ? entry.correlation_id : undefined;
  if (id === undefined) return;
  const count = (map: Map<string, number>) => map.set(id, (map.get(id) ?? 0) + 1);
  if (entry.message === 'delivery' && entry.outcome === 'accepted' && entry.action === 'enqueued') {
    count(tally.enqueued);
  } else if (entry.message === 'event' && entry.outcome === 'applied') {
    count(tally.applied);
  } else if (entry.message === 'event' && entry.outcome === 'dead_lettered') {
    tally.deadLettered.add(id);
  } else if (
    typeof entry.message === 'string' &&
    entry.message.startsWith('event queued but ledger not confirmed')
  ) {
    tally.unconfirmed += 1;
  }
}

/** Ledger statuses after which nothing more happens to an event. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['applied', 'recorded', 'parked', 'rejected']);

export interface SoakFindings {
  readonly outcomes: readonly DeliveryOutcome[];
  /** The ledger status of every event id answered 200; `missing` when the read API knew no such entry. */
  readonly ledger: ReadonlyMap<string, string>;
  readonly logs: LogTally;
  /** Messages on the events dead-letter queue at the end. */
  readonly deadLetterMessages: number;
  /** Problems with the faults themselves, e.g. DynamoDB Local outliving a killed runtime. */
  readonly faultProblems: readonly string[];
}

export interface ReportRow {
  readonly label: string;
  readonly value: number;
  /** The value a passing run must have; absent for rows that only inform. */
  readonly target?: number;
  /** Event ids (or delivery descriptions) behind a missed target, to start an investigation from. */
  readonly examples?: readonly string[];
}

export interface SoakReport {
  readonly rows: readonly ReportRow[];
  readonly missed: readonly ReportRow[];
}

export function soakReport(findings: SoakFindings): SoakReport {
  const { outcomes, ledger, logs } = findings;
  const answered = outcomes.filter((o) => o.answer === 'accepted' || o.answer === 'duplicate');
  const answeredIds = new Set(answered.flatMap((o) => (o.eventId ? [o.eventId] : [])));
  const sum = (pick: (o: DeliveryOutcome) => number) => outcomes.reduce((total, o) => total + pick(o), 0);
  const byStatus = (status: string) => [...answeredIds].filter((id) => ledger.get(id) === status);
  const lost = [...answeredIds].filter((id) => !FINAL_STATUSES.has(ledger.get(id) ?? 'missing'));
  const queuedTwice = [...logs.enqueued].filter(([, n]) => n > 1).map(([id]) => id);
  const appliedOnce = byStatus('applied').filter((id) => logs.applied.get(id) === 1);
  const appliedMore = [...logs.applied].filter(([, n]) => n > 1).map(([id]) => id);
  const deadLettered = new Set([...logs.deadLettered]);
  const refused = outcomes.filter((o) => o.answer === 'refused');
  const gaveUp = outcomes.filter((o) => o.answer === 'gave_up');
  const withoutRetryAfter = sum((o) => o.serverErrorsWithoutRetryAfter);

  const rows: ReportRow[] = [
    { label: 'sent (deliveries)', value: outcomes.length },
    { label: 'attempts (with retries)', value: sum((o) => o.attempts) },
    { label: 'accepted', value: outcomes.filter((o) => o.answer === 'accepted').length },
    {
      label: '  enqueued',
      value: outcomes.filter((o) => o.answer === 'accepted' && o.action === 'enqueued').length,
    },
    {
      label: '  recorded',
      value: outcomes.filter((o) => o.answer === 'accepted' && o.action === 'recorded').length,
    },
    { label: 'duplicates', value: outcomes.filter((o) => o.answer === 'duplicate').length },
    {
      label: 'refused (4xx)',
      value: refused.length,
      target: 0,
      examples: refused.map((o) => `${o.kind}: ${o.refusal ?? '?'}`),
    },
    {
      label: 'gave up (no 200 in time)',
      value: gaveUp.length,
      target: 0,
      examples: gaveUp.map((o) => `${o.kind}: ${o.refusal ?? '?'}`),
    },
    { label: '409 in progress (retried)', value: sum((o) => o.conflicts) },
    { label: 'network errors (retried)', value: sum((o) => o.networkErrors) },
    { label: '5xx answers', value: sum((o) => o.serverErrors) },
    { label: '  with Retry-After', value: sum((o) => o.serverErrors) - withoutRetryAfter },
    { label: '  without Retry-After', value: withoutRetryAfter, target: 0 },
    { label: 'applied once', value: appliedOnce.length },
    { label: 'applied more than once', value: appliedMore.length, examples: appliedMore },
    { label: 'recorded', value: byStatus('recorded').length },
    { label: 'parked', value: byStatus('parked').length },
    { label: 'rejected', value: byStatus('rejected').length, examples: byStatus('rejected') },
    { label: 'queued but ledger unconfirmed', value: logs.unconfirmed },
    { label: 'queued twice', value: queuedTwice.length, target: 0, examples: queuedTwice },
    {
      label: 'lost',
      value: lost.length,
      target: 0,
      examples: lost.map((id) => `${id} (${ledger.get(id) ?? 'missing'})`),
    },
    {
      label: 'dead-lettered',
      value: Math.max(deadLettered.size, findings.deadLetterMessages),
      target: 0,
      examples: [...deadLettered],
    },
    {
      label: 'fault problems',
      value: findings.faultProblems.length,
      target: 0,
      examples: findings.faultProblems,
    },
  ];
  return { rows, missed: rows.filter((row) => row.target !== undefined && row.value !== row.target) };
}

/** The table as printed: label, value, and the target where there is one. */
export function formatReport(report: SoakReport): string {
  const width = Math.max(...report.rows.map((row) => row.label.length)) + 2;
  const lines = report.rows.map((row) => {
    const target =
      row.target === undefined ? '' : `  target ${row.target}${row.value === row.target ? '' : '  MISSED'}`;
    return `  ${row.label.padEnd(width)}${String(row.value).padStart(7)}${target}`;
  });
  for (const row of report.missed) {
    const examples = (row.examples ?? []).slice(0, 10);
    if (examples.length === 0) continue;
    lines.push('', `  ${row.label}:`, ...examples.map((example) => `    ${example}`));
    if ((row.examples ?? []).length > examples.length)
      lines.push(`    … and ${(row.examples ?? []).length - examples.length} more`);
  }
  return lines.join('\n');
}
