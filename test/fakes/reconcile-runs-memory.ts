import type { Page } from '../../lambdas/domain/page';
import { compareVersions } from '../../lambdas/domain/state';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import {
  type ClaimOutcome,
  DRIFT_FIGURES,
  type ItemOutcome,
  NO_DRIFT,
  NO_PARITY,
  PARITY_FIGURES,
  type ParitySweepPlan,
  type ReconcileRunStore,
  type RunDetail,
  type RunPlan,
  type RunQuery,
  type RunSummary,
  type SourceFigures,
  type WorkItem,
  type WorkItemRecord,
} from '../../lambdas/state/reconcile-runs';

interface StoredItem extends WorkItemRecord {
  readonly attempt?: string;
  readonly leaseUntil?: string;
}

interface StoredRun {
  summary: RunSummary;
  remaining: number;
  driftRemaining: number;
  readonly parityPlan?: ParitySweepPlan;
  paritySentAt?: string;
  readonly sources: Map<string, SourceFigures>;
  readonly items: Map<string, StoredItem>;
}

/** Behaves as DynamoDbReconcileRunStore does, cursor aside: here it is the `runAt` of the last run returned. */
export class InMemoryReconcileRunStore implements ReconcileRunStore {
  readonly runs = new Map<string, StoredRun>();
  #sweptAt: string | undefined;

  async create(plan: RunPlan): Promise<boolean> {
    if (this.runs.has(plan.runId)) return false;
    const sources = new Map<string, SourceFigures>();
    let parityPlanned = 0;
    for (const item of plan.items) {
      if (item.kind === 'parity') {
        parityPlanned += 1;
        continue;
      }
      const source = sources.get(item.sourceId) ?? {
        sourceId: item.sourceId,
        planned: 0,
        done: 0,
        failed: 0,
        ...NO_DRIFT,
      };
      sources.set(item.sourceId, { ...source, planned: source.planned + 1 });
    }
    this.runs.set(plan.runId, {
      summary: {
        runId: plan.runId,
        status: 'running',
        trigger: plan.trigger,
        startedAt: plan.startedAt,
        dryRun: plan.dryRun,
        thresholdPercent: plan.thresholdPercent,
        planned: plan.items.length,
        done: 0,
        failed: 0,
        parity: { planned: parityPlanned, done: 0, failed: 0, ...NO_PARITY },
        sources: [],
      },
      remaining: plan.items.length,
      driftRemaining: plan.items.length - parityPlanned,
      ...(plan.parity === undefined ? {} : { parityPlan: plan.parity }),
      sources,
      items: new Map(),
    });
    return true;
  }

  async claim(item: WorkItem, attempt: string, claimedAt: string, leaseUntil: string): Promise<ClaimOutcome> {
    const run = this.#run(item.runId);
    const current = run?.items.get(item.itemId);
    if (current && current.status !== 'running') return { claimed: false, reason: 'finished' };
    if (current && compareVersions(current.leaseUntil ?? '', claimedAt) >= 0) {
      return { claimed: false, reason: 'leased' };
    }
    run?.items.set(item.itemId, {
      itemId: item.itemId,
      kind: item.kind,
      status: 'running',
      ...(item.kind === 'drift' ? { sourceId: item.sourceId } : {}),
      ...(item.propertyId === undefined ? {} : { propertyId: item.propertyId }),
      claimedAt,
      attempt,
      leaseUntil,
    });
    return { claimed: true };
  }

  async finish(item: WorkItem, attempt: string, outcome: ItemOutcome): Promise<boolean> {
    const current = this.#run(item.runId)?.items.get(item.itemId);
    if (current?.status !== 'running' || current.attempt !== attempt) return false;
    this.#end(item, current.claimedAt, outcome);
    return true;
  }

  async abandon(
    item: WorkItem,
    outcome: ItemOutcome & { readonly status: 'failed' },
    attempt?: string,
  ): Promise<boolean> {
    const current = this.#run(item.runId)?.items.get(item.itemId);
    if (current !== undefined && current.status !== 'running') return false;
    const own = attempt !== undefined && current?.attempt === attempt;
    if (current !== undefined && !own && compareVersions(current.leaseUntil ?? '', outcome.finishedAt) >= 0)
      return false;
    this.#end(item, current?.claimedAt ?? outcome.finishedAt, outcome);
    return true;
  }

  #end(item: WorkItem, claimedAt: string, outcome: ItemOutcome): void {
    const run = this.#run(item.runId);
    if (!run) return;
    const ended = outcome.status === 'done' ? 'done' : 'failed';
    run.items.set(item.itemId, {
      itemId: item.itemId,
      kind: item.kind,
      status: outcome.status,
      ...(item.kind === 'drift' ? { sourceId: item.sourceId } : {}),
      ...(item.propertyId === undefined ? {} : { propertyId: item.propertyId }),
      claimedAt,
      finishedAt: outcome.finishedAt,
      ...(outcome.result === undefined ? {} : { result: outcome.result }),
      ...(outcome.status === 'failed'
        ? { error: outcome.error, message: outcome.message.slice(0, 2000) }
        : outcome.drift
          ? { properties: outcome.drift.properties }
          : {}),
    });
    const summary = run.summary;
    const parity = { ...summary.parity };
    if (item.kind === 'parity') {
      parity[ended] += 1;
      if (outcome.status === 'done' && outcome.parity) {
        for (const name of PARITY_FIGURES) parity[name] += outcome.parity[name];
      }
    }
    run.summary = { ...summary, [ended]: summary[ended] + 1, parity };
    run.remaining -= 1;
    if (item.kind === 'drift') run.driftRemaining -= 1;
    if (item.kind === 'drift') {
      const source = { ...(run.sources.get(item.sourceId) ?? emptySource(item.sourceId)) };
      source[ended] += 1;
      if (outcome.status === 'done' && outcome.drift) {
        for (const name of DRIFT_FIGURES) source[name] += outcome.drift.figures[name];
      }
      run.sources.set(item.sourceId, source);
    }
  }

  async parityDue(runId: string): Promise<ParitySweepPlan | undefined> {
    const run = this.#run(runId);
    if (!run || run.paritySentAt !== undefined) return undefined;
    return run.summary.parity.planned > 0 && run.driftRemaining <= 0 ? run.parityPlan : undefined;
  }

  async markParitySent(runId: string, at: string): Promise<void> {
    const run = this.#run(runId);
    if (run) run.paritySentAt ??= at;
  }

  async complete(runId: string, at: string): Promise<boolean> {
    const run = this.#run(runId);
    if (run?.summary.status !== 'running' || run.remaining > 0) return false;
    run.summary = { ...run.summary, status: 'complete', completedAt: at };
    return true;
  }

  async get(runId: string): Promise<RunDetail | undefined> {
    const run = this.#run(runId);
    if (!run) return undefined;
    return {
      ...this.#summary(run),
      items: [...run.items.values()]
        .sort((a, b) => compareVersions(encodeURIComponent(a.itemId), encodeURIComponent(b.itemId)))
        .map(({ attempt: _attempt, leaseUntil: _leaseUntil, ...record }) => record),
    };
  }

  async list(query: RunQuery): Promise<Page<RunSummary>> {
    const entries = [...this.runs.values()]
      .map((run) => ({ runAt: `${run.summary.startedAt}#${run.summary.runId}`, run }))
      .filter(({ runAt }) => compareVersions(runAt, query.from) >= 0 && compareVersions(runAt, query.to) <= 0)
      .filter(({ run }) => query.sourceId === undefined || run.sources.has(query.sourceId))
      .sort((a, b) => compareVersions(b.runAt, a.runAt));
    if (query.cursor !== undefined && !entries.some(({ runAt }) => runAt === query.cursor)) {
      throw new InvalidCursorError('it is not the position of a run in this listing');
    }
    const after =
      query.cursor === undefined
        ? entries
        : entries.filter(({ runAt }) => compareVersions(runAt, query.cursor as string) < 0);
    const page = after.slice(0, query.limit);
    const items = page.map(({ run }) =>
      query.sourceId === undefined ? this.#header(run) : this.#sourceRun(run, query.sourceId),
    );
    const last = page.at(-1);
    return after.length > query.limit && last ? { items, cursor: last.runAt } : { items };
  }

  async latest(): Promise<RunSummary | undefined> {
    return (await this.list({ from: '', to: '\uffff', limit: 1 })).items[0];
  }

  async takeParitySweep(at: string, dueBy: string): Promise<boolean> {
    if (this.#sweptAt !== undefined && compareVersions(this.#sweptAt, dueBy) > 0) return false;
    this.#sweptAt = at;
    return true;
  }

  #run(runId: string): StoredRun | undefined {
    return this.runs.get(runId);
  }

  #header(run: StoredRun): RunSummary {
    return { ...run.summary, sources: [] };
  }

  #summary(run: StoredRun): RunSummary {
    return {
      ...run.summary,
      sources: [...run.sources.values()].sort((a, b) => compareVersions(a.sourceId, b.sourceId)),
    };
  }

  #sourceRun(run: StoredRun, sourceId: string): RunSummary {
    const source = run.sources.get(sourceId) ?? emptySource(sourceId);
    return {
      ...run.summary,
      status: source.done + source.failed >= source.planned ? 'complete' : 'running',
      planned: source.planned,
      done: source.done,
      failed: source.failed,
      parity: { planned: 0, done: 0, failed: 0, ...NO_PARITY },
      sources: [source],
    };
  }
}

function emptySource(sourceId: string): SourceFigures {
  return { sourceId, planned: 0, done: 0, failed: 0, ...NO_DRIFT };
}
