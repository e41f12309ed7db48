import {
  type ParitySyncConfig,
  type PollingSourceConfig,
  polledChannel,
  type SourceConfig,
} from '../config/schema';
import type { IsoDate } from '../domain/canonical';
import { addDays } from '../domain/dates';
import type { Clock } from '../shared/clock';
import { InvalidRequestError, ParitySyncError, ProviderFailureError } from '../shared/errors';
import type { ParityCounts } from '../state/parity';
import type { AriStore, ParityStore } from '../state/ports';
import type { MappingResolver } from '../state/resolver';
import type { CircuitBreaker, CircuitState } from './circuit-breaker';
import type { DriftDependencies } from './drift';
import type { CircuitStateStore } from './dynamodb-checkpoints';
import { checkPropertyParity } from './parity';
import type { PollingClient } from './polling-client';
import type { AuditLog } from './ports';
import {
  type CheckpointStore,
  type ReconcileRunOptions,
  ReconcileRunOptionsSchema,
  type RunProgress,
  type RunSummary,
  runReconciliation,
} from './run';

/**
 * One scheduled reconciliation: every polled source in turn (sharing the run's time budget), then the rate
 * parity check of every configured property over the coming stay dates. The Lambda handler, the local timer and
 * the `reconcile` CLI command all call this; it knows nothing of where it runs.
 *
 * A provider that fails (credentials refused, circuit open, retries exhausted) is reported and the run moves
 * on: one provider's outage must not stop the others from being reconciled, and the next scheduled run tries
 * again. Anything else (local state unreachable, a bug) is thrown once every other step had its chance, so the
 * invocation fails and the scheduler's retry and dead-letter queue take over.
 */

export interface ReconcileRequest {
  /** Reconcile only these sources. @default every source with `polling` configured */
  readonly sourceIds?: readonly string[];
  /** Measure and report only, whatever the configuration says. @default the configuration's drift.dryRun */
  readonly dryRun?: boolean;
  /** Run the parity check after the sources. @default true */
  readonly parity?: boolean;
  /** Overrides the configured budget, e.g. for a CLI run. */
  readonly budgetMs?: number;
}

/** A polled source's client, built once per source and kept across runs so its limiter and breaker persist. */
export interface SourceClient {
  readonly client: Pick<PollingClient, 'pages'>;
  readonly circuitState: () => CircuitState;
  /** The breaker itself, so its state can be saved after a run and taken up by the next. */
  readonly breaker?: Pick<CircuitBreaker, 'snapshot' | 'restore'>;
}

export type ProgressEvent =
  | {
      readonly type: 'plan';
      /** One entry per scan: a source id, or `<sourceId> <propertyId>` for a source polled per property. */
      readonly sources: readonly string[];
      readonly parityProperties: readonly string[];
    }
  | {
      readonly type: 'page';
      readonly sourceId: string;
      readonly propertyId?: string;
      readonly progress: RunProgress;
    }
  | { readonly type: 'source'; readonly result: SourceResult }
  | { readonly type: 'parity'; readonly result: ParityResult };

export interface ReconcileDependencies {
  readonly config: ParitySyncConfig;
  readonly clientFor: (source: SourceConfig & { readonly polling: PollingSourceConfig }) => SourceClient;
  readonly resolver: Pick<MappingResolver, 'resolve'>;
  readonly ari: AriStore;
  readonly audit: AuditLog;
  readonly checkpoints: CheckpointStore;
  /** Saves each polled source's circuit breaker between runs that may not share a process. */
  readonly circuits?: CircuitStateStore;
  readonly parity: ParityStore;
  readonly clock: Clock;
  /** A fresh id per run: it versions corrections and names the run in the audit log. */
  readonly newRunId: () => string;
  readonly availabilityFor?: DriftDependencies['availabilityFor'];
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type SourceResult =
  | ({ readonly outcome: 'reconciled'; readonly circuit: CircuitState } & RunSummary)
  | {
      readonly outcome: 'failed';
      readonly sourceId: string;
      /** The provider property of a per-property scan. */
      readonly propertyId?: string;
      readonly runId: string;
      /** `circuit_open`, `provider_auth_failed`, a provider error code, or `internal_error`. */
      readonly error: string;
      readonly message: string;
      readonly circuit: CircuitState;
    };

export interface ParityResult {
  readonly propertyId: string;
  readonly from: IsoDate;
  readonly to: IsoDate;
  readonly counts: ParityCounts;
}

export interface ReconcileReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
  readonly sources: readonly SourceResult[];
  readonly parity: readonly ParityResult[];
}

/** Thrown after the run when a step failed for a reason that is not the provider's: the report is attached. */
export class ReconciliationFailedError extends ParitySyncError {
  constructor(
    message: string,
    readonly report: ReconcileReport,
    readonly failures: readonly unknown[],
  ) {
    super('reconciliation_failed', message, { cause: failures[0] });
  }
}

/** Sources `request.sourceIds` may name: the configured ones with a polling block. */
export function polledSources(
  config: ParitySyncConfig,
): (SourceConfig & { readonly polling: PollingSourceConfig })[] {
  return config.sources.filter(
    (source): source is SourceConfig & { readonly polling: PollingSourceConfig } =>
      source.polling !== undefined,
  );
}

/** One scan of a run: a polled source, or one property of a source polled property by property. */
export interface Scan {
  readonly source: SourceConfig & { readonly polling: PollingSourceConfig };
  readonly propertyId?: string;
}

export function scansOf(
  sources: readonly (SourceConfig & { readonly polling: PollingSourceConfig })[],
): Scan[] {
  return sources.flatMap((source) =>
    source.polling.propertyIds === undefined
      ? [{ source }]
      : source.polling.propertyIds.map((propertyId) => ({ source, propertyId })),
  );
}

function scanLabel(scan: Scan): string {
  return scan.propertyId === undefined ? scan.source.id : `${scan.source.id} ${scan.propertyId}`;
}

/** The run options of one source (or one of its properties) from its polling block and the settings. */
export function runOptionsFor(
  source: SourceConfig & { readonly polling: PollingSourceConfig },
  config: ParitySyncConfig,
  budgetMs: number,
  now: Date,
  dryRun: boolean,
  propertyId?: string,
): ReconcileRunOptions {
  const { polling } = source;
  const windowStart =
    polling.fullPassWindowDays === undefined
      ? new Date(0)
      : new Date(now.getTime() - polling.fullPassWindowDays * 86_400_000);
  return ReconcileRunOptionsSchema.parse({
    sourceId: source.id,
    ...(propertyId === undefined ? {} : { propertyId }),
    channel: polledChannel(source),
    budgetMs,
    watermarkOverlapSeconds: polling.watermarkOverlapSeconds,
    fullPassEveryHours: polling.fullPassEveryHours,
    windowStart: windowStart.toISOString(),
    drift: { ...config.reconciliation.drift, dryRun },
  });
}

export async function reconcile(
  request: ReconcileRequest,
  deps: ReconcileDependencies,
): Promise<ReconcileReport> {
  const { config, clock } = deps;
  const started = clock.now();
  const deadline = started.getTime() + (request.budgetMs ?? config.reconciliation.budgetSeconds * 1000);
  const dryRun = request.dryRun ?? config.reconciliation.drift.dryRun;
  const scans = scansOf(selectSources(config, request.sourceIds));
  const parityProperties =
    (request.parity ?? true) ? config.parity.properties.map((property) => property.propertyId) : [];
  deps.onProgress?.({ type: 'plan', sources: scans.map(scanLabel), parityProperties });

  const failures: unknown[] = [];
  const results: SourceResult[] = [];
  const circuits = new CircuitKeeper(deps, failures);
  for (const [index, scan] of scans.entries()) {
    await circuits.takeUp(scan.source);
    // An equal share of what is left: a scan that finishes early leaves its time to the ones after it, and
    // none can starve the rest by never finishing.
    const remainingMs = deadline - clock.now().getTime();
    const budgetMs = Math.max(1, Math.floor(remainingMs / (scans.length - index)));
    const result = await reconcileScan(scan, budgetMs, dryRun, deps, failures);
    results.push(result);
    deps.onProgress?.({ type: 'source', result });
  }
  await circuits.saveAll();

  const parity: ParityResult[] = [];
  const today = started.toISOString().slice(0, 10);
  const to = addDays(today, config.reconciliation.parityHorizonDays - 1);
  for (const propertyId of parityProperties) {
    try {
      const report = await checkPropertyParity(
        { propertyId, from: today, to },
        { ari: deps.ari, store: deps.parity, clock },
        config.parity,
      );
      const result = { propertyId, from: today, to, counts: report.counts };
      parity.push(result);
      deps.onProgress?.({ type: 'parity', result });
    } catch (error) {
      failures.push(error);
    }
  }

  const report: ReconcileReport = {
    startedAt: started.toISOString(),
    finishedAt: clock.now().toISOString(),
    dryRun,
    sources: results,
    parity,
  };
  if (failures.length > 0) {
    const first = failures[0];
    throw new ReconciliationFailedError(
      `${failures.length} reconciliation step(s) failed for a reason other than the provider; the first: ${
        first instanceof Error ? first.message : String(first)
      }`,
      report,
      failures,
    );
  }
  return report;
}

export function selectSources(config: ParitySyncConfig, sourceIds: readonly string[] | undefined) {
  const polled = polledSources(config);
  if (sourceIds === undefined) return polled;
  const byId = new Map(polled.map((source) => [source.id, source]));
  // Every bad id is named at once, so a CLI user fixes the list in one go.
  const problems = sourceIds
    .filter((id) => !byId.has(id))
    .map((id) =>
      config.sources.some((candidate) => candidate.id === id)
        ? `source "${id}" has no polling block in the configuration, so there is nothing to reconcile it against`
        : `no source "${id}" is configured`,
    );
  if (problems.length > 0) {
    throw new UnknownPolledSourceError(
      `${problems.join('; ')}. Polled sources: ${[...byId.keys()].join(', ') || '(none)'}`,
    );
  }
  // A source named twice is reconciled once: a second pass in the same run would only spend budget.
  return [...new Set(sourceIds)].flatMap((id) => {
    const source = byId.get(id);
    return source ? [source] : [];
  });
}

/** A reconciliation was asked for a source that is not configured or not polled. */
export class UnknownPolledSourceError extends InvalidRequestError {
  constructor(message: string) {
    super('unknown_polled_source', message);
  }
}

export async function reconcileScan(
  { source, propertyId }: Scan,
  budgetMs: number,
  dryRun: boolean,
  deps: ReconcileDependencies,
  failures: unknown[],
): Promise<SourceResult> {
  const runId = deps.newRunId();
  let circuitState: SourceClient['circuitState'] = () => 'closed';
  try {
    // Inside the try: a source whose client cannot be built is reported like any other failed source.
    const sourceClient = deps.clientFor(source);
    const { client } = sourceClient;
    circuitState = sourceClient.circuitState;
    const summary = await runReconciliation(
      runOptionsFor(source, deps.config, budgetMs, deps.clock.now(), dryRun, propertyId),
      {
        client,
        resolver: deps.resolver,
        ari: deps.ari,
        audit: deps.audit,
        checkpoints: deps.checkpoints,
        clock: deps.clock,
        runId,
        ...(deps.availabilityFor ? { availabilityFor: deps.availabilityFor } : {}),
        onPage: (progress) =>
          deps.onProgress?.({
            type: 'page',
            sourceId: source.id,
            ...(propertyId === undefined ? {} : { propertyId }),
            progress,
          }),
      },
    );
    return { outcome: 'reconciled', circuit: circuitState(), ...summary };
  } catch (error) {
    const providerCode = providerFailureCode(error);
    if (providerCode === undefined) failures.push(error);
    return {
      outcome: 'failed',
      sourceId: source.id,
      ...(propertyId === undefined ? {} : { propertyId }),
      runId,
      error: providerCode ?? 'internal_error',
      message: error instanceof Error ? error.message : String(error),
      circuit: circuitState(),
    };
  }
}

/**
 * Takes up each source's saved breaker before its first scan of the run and saves them all afterwards. A warm
 * container's breaker already holds the same state; a cold one would otherwise start closed. Failing to read or
 * save a breaker is collected like any other failure that is not the provider's.
 */
export class CircuitKeeper {
  readonly #deps: ReconcileDependencies;
  readonly #failures: unknown[];
  readonly #taken = new Map<string, NonNullable<SourceClient['breaker']>>();

  constructor(deps: ReconcileDependencies, failures: unknown[]) {
    this.#deps = deps;
    this.#failures = failures;
  }

  async takeUp(source: SourceConfig & { readonly polling: PollingSourceConfig }): Promise<void> {
    const store = this.#deps.circuits;
    if (!store || this.#taken.has(source.id)) return;
    try {
      const breaker = this.#deps.clientFor(source).breaker;
      if (!breaker) return;
      this.#taken.set(source.id, breaker);
      const saved = await store.get(source.id);
      if (saved) breaker.restore(saved);
    } catch (error) {
      this.#failures.push(error);
    }
  }

  async saveAll(): Promise<void> {
    const store = this.#deps.circuits;
    if (!store) return;
    for (const [sourceId, breaker] of this.#taken) {
      try {
        await store.put(sourceId, breaker.snapshot());
      } catch (error) {
        this.#failures.push(error);
      }
    }
  }
}

/** The code of a failure that is the provider's (reported, not thrown); undefined for anything else. */
function providerFailureCode(error: unknown): string | undefined {
  return error instanceof ProviderFailureError ? error.code : undefined;
}
