import * as z from 'zod/mini';
import type { DriftOptions } from '../config/reconcile-options';
import { DriftOptionsSchema } from '../config/reconcile-options';
import { SourceIdSchema } from '../config/schema';
import { isChannelOf } from '../domain/channel';
import { IsoInstantSchema } from '../domain/dates';
import type { RoomNightKey } from '../domain/state';
import type { Clock } from '../shared/clock';
import type { AriStore, MappingEntity } from '../state/ports';
import type { MappingResolver } from '../state/resolver';
import {
  type DriftDependencies,
  type DriftReport,
  type DriftStats,
  driftStatsOf,
  emptyTally,
  mergeTally,
  nightId,
  reconcileDrift,
  type ScopeAction,
  type Tally,
} from './drift';
import type { PolledPage, PollingClient, PollingOutcome, ProviderNight } from './polling-client';
import type { AuditLog, PolledNight } from './ports';

/**
 * One reconciliation run of one source: poll what the provider changed since the last run (or everything, on a
 * periodic full pass), map it to internal ids, measure drift against local state and correct it page by page,
 * then checkpoint where the next run starts.
 *
 * The threshold is applied to the run's drift per property, not to each page: a page is first only measured
 * (reconcileDrift in dry-run), and a property is corrected from the page on which its drift so far in the run
 * exceeds the threshold, together with the mismatched nights of its earlier pages, which were held back for
 * that. A property whose drift never exceeds it has its mismatches recorded as observed when the run ends. So
 * memory stays bounded (held-back nights are at most the threshold's share of what was compared) and a run can
 * stop after any page, while a page that happens to sample little drift is not left uncorrected. The price is
 * a second read of local state for pages with mismatches, and that a property corrected early stays corrected
 * for the rest of the run even if later pages bring its drift back under the threshold. A run cut short by its
 * budget decides on what it measured; the run that resumes the scan decides on the rest.
 */

// ---------------------------------------------------------------------------------------------- options

export const ReconcileRunOptionsSchema = z
  .object({
    sourceId: SourceIdSchema,
    /**
     * Poll only this property (the provider's id, sent as `property_id`), for providers that limit requests per
     * property: its pages are charged to that property's bucket and it keeps a checkpoint of its own.
     */
    propertyId: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    /** key.channel of the polled nights: the source id, or `<sourceId>:<channelId>` for a channel manager. */
    channel: z.string().check(z.minLength(1), z.maxLength(200)),
    /** Time the run may spend polling; the client stops before a request that could not finish within it. */
    budgetMs: z.number().check(z.int(), z.minimum(1), z.maximum(15 * 60_000)),
    /** Re-read this far before the last watermark, so a record the provider made visible late is not missed. */
    watermarkOverlapSeconds: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(86_400)), 300),
    /** How often a run polls the whole window instead of only what changed. */
    fullPassEveryHours: z._default(z.number().check(z.positive(), z.maximum(24 * 366)), 24),
    /** Where a full pass starts: the provider's records updated at or after this instant. */
    windowStart: z._default(IsoInstantSchema, () => new Date(0)),
    drift: z.prefault(DriftOptionsSchema, {}),
  })
  .check(
    z.refine((options) => isChannelOf(options.channel, options.sourceId), {
      path: ['channel'],
      message: 'must be the source id, or "<sourceId>:<channelId>": drift is reported per source by it',
    }),
  );
export type ReconcileRunOptions = z.infer<typeof ReconcileRunOptionsSchema>;

// ------------------------------------------------------------------------------------------------ ports

/** Where the next run of a source starts. Instants are ISO-8601. */
export interface Checkpoint {
  /**
   * The latest provider updated_at seen, unmapped nights included (a night waiting for a mapping would otherwise
   * hold the watermark back for ever; the next full pass reads it again once it is mapped). Incremental runs
   * poll from here minus the overlap.
   */
  readonly watermark: string;
  /** Set when a run stopped at its time budget: the next run continues this scan from this cursor. */
  readonly resumeCursor?: string;
  /** The updated_after of the interrupted scan, which the cursor belongs to. */
  readonly resumeUpdatedAfter?: string;
  /** When the run that completed the last full pass started. */
  readonly lastFullPassAt?: string;
}

/** Keyed by `checkpointKeyOf`: the source id, or the source and property for a per-property scan. */
export interface CheckpointStore {
  get(key: string): Promise<Checkpoint | undefined>;
  put(key: string, checkpoint: Checkpoint): Promise<void>;
}

/** Where a scan's checkpoint is kept: per source, or per source and property when polled property by property. */
export function checkpointKeyOf(options: Pick<ReconcileRunOptions, 'sourceId' | 'propertyId'>): string {
  return options.propertyId === undefined
    ? options.sourceId
    : `${options.sourceId}#property=${encodeURIComponent(options.propertyId)}`;
}

export interface RunProgress {
  readonly pages: number;
  /** Nights polled so far. */
  readonly nights: number;
  /** Nights left out so far: malformed records and unmapped nights. */
  readonly skipped: number;
  /** Drift so far, in percent of compared field groups. */
  readonly drift: number;
}

export interface ReconcileRunDeps {
  /** Already constructed for the source (its limiter and breaker shared as the caller sees fit). */
  readonly client: Pick<PollingClient, 'pages'>;
  readonly resolver: Pick<MappingResolver, 'resolve'>;
  readonly ari: AriStore;
  readonly audit: AuditLog;
  readonly checkpoints: CheckpointStore;
  readonly clock: Clock;
  readonly runId: string;
  readonly availabilityFor?: DriftDependencies['availabilityFor'];
  readonly onPage?: (progress: RunProgress) => void;
}

// ---------------------------------------------------------------------------------------------- summary

export interface UnmappedTally {
  /** Nights skipped because at least one of their ids had no mapping. */
  readonly nights: number;
  /** Nights per entity that was missing (a night missing two mappings counts under both). */
  readonly property: number;
  readonly roomType: number;
  readonly ratePlan: number;
  /** Distinct unmapped external ids per entity, at most UNMAPPED_IDS_KEPT each, for the operator to map. */
  readonly ids: Readonly<Record<MappingEntity, readonly string[]>>;
}

export interface RunSummary {
  readonly runId: string;
  readonly sourceId: string;
  /** The provider property polled, for a per-property scan. */
  readonly propertyId?: string;
  readonly status: 'complete' | 'budget_exhausted';
  /** Whether this run's scan covers the whole window (a full pass, possibly resumed). */
  readonly fullPass: boolean;
  /** Whether it continued a scan an earlier run left at its budget. */
  readonly resumed: boolean;
  readonly updatedAfter: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly pages: number;
  readonly nightsPolled: number;
  /** Malformed records the client left out. */
  readonly malformed: number;
  readonly mapped: number;
  readonly unmapped: UnmappedTally;
  readonly requests: number;
  readonly throttled: number;
  readonly retries: number;
  readonly drift: {
    readonly overall: DriftStats;
    /** With what the run did about each property's drift. */
    readonly properties: readonly (DriftStats & {
      readonly propertyId: string;
      readonly action: ScopeAction;
    })[];
  };
  readonly correctedGroups: number;
  /** Groups due for correction but not written (a newer write won, or the inventory policy refused). */
  readonly skippedCorrections: number;
  /** The checkpoint saved for the next run. */
  readonly checkpoint: Checkpoint;
}

export const UNMAPPED_IDS_KEPT = 20;

// ------------------------------------------------------------------------------------------------- run

export async function runReconciliation(
  options: ReconcileRunOptions,
  deps: ReconcileRunDeps,
): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const checkpointKey = checkpointKeyOf(options);
  const previous = await deps.checkpoints.get(checkpointKey);
  const scan = planScan(options, previous, startedAt);
  const tally = new RunTally();
  const mapper = new NightMapper(deps.resolver, options);
  const decider = new DriftDecider(tally, options, deps);
  let maxUpdatedAtMs = scan.watermarkMs;
  // The cursor after the last fully handled page: where a run that fails part-way can resume.
  let handledCursor = scan.cursor;

  const pages = deps.client.pages({
    updatedAfter: scan.updatedAfter,
    ...(scan.cursor === undefined ? {} : { cursor: scan.cursor }),
    ...(options.propertyId === undefined ? {} : { propertyId: options.propertyId }),
    deadline: startedAt.getTime() + options.budgetMs,
  });
  let outcome: PollingOutcome;
  try {
    for (;;) {
      const next = await pages.next();
      if (next.done) {
        outcome = next.value;
        break;
      }
      const page = next.value;
      for (const night of page.nights) maxUpdatedAtMs = Math.max(maxUpdatedAtMs, night.updatedAt.getTime());
      await handlePage(page, mapper, tally, decider);
      handledCursor = page.nextCursor ?? undefined;
      deps.onPage?.(tally.progress());
    }
  } catch (error) {
    // Held-back mismatches are not recorded as observed: the resumed scan does not re-read their pages, but
    // nothing was written for them and the next full pass compares them again.
    // Keep the pages already reconciled: the next run resumes after them instead of polling them again.
    if (tally.pages > 0 && handledCursor !== undefined) {
      await deps.checkpoints.put(
        checkpointKey,
        resumeCheckpoint(previous, maxUpdatedAtMs, handledCursor, scan.updatedAfter),
      );
    }
    throw error;
  }

  await decider.finish();

  const watermark = new Date(maxUpdatedAtMs).toISOString();
  let checkpoint: Checkpoint;
  if (outcome.status === 'complete') {
    const lastFullPassAt = scan.fullPass ? startedAt.toISOString() : previous?.lastFullPassAt;
    checkpoint = { watermark, ...(lastFullPassAt === undefined ? {} : { lastFullPassAt }) };
  } else if (outcome.resumeCursor !== undefined) {
    checkpoint = resumeCheckpoint(previous, maxUpdatedAtMs, outcome.resumeCursor, scan.updatedAfter);
  } else {
    // Stopped before the first page of a fresh scan: the next run plans the same scan again.
    checkpoint = {
      watermark,
      ...(previous?.lastFullPassAt === undefined ? {} : { lastFullPassAt: previous.lastFullPassAt }),
    };
  }
  await deps.checkpoints.put(checkpointKey, checkpoint);

  return {
    runId: deps.runId,
    sourceId: options.sourceId,
    ...(options.propertyId === undefined ? {} : { propertyId: options.propertyId }),
    status: outcome.status === 'complete' ? 'complete' : 'budget_exhausted',
    fullPass: scan.fullPass,
    resumed: scan.cursor !== undefined,
    updatedAfter: scan.updatedAfter.toISOString(),
    startedAt: startedAt.toISOString(),
    finishedAt: deps.clock.now().toISOString(),
    ...tally.summary(mapper, decider),
    checkpoint,
  };
}

// ------------------------------------------------------------------------------------------------- scan

interface ScanPlan {
  readonly updatedAfter: Date;
  readonly cursor?: string;
  readonly fullPass: boolean;
  readonly watermarkMs: number;
}

function planScan(options: ReconcileRunOptions, previous: Checkpoint | undefined, now: Date): ScanPlan {
  const windowStartMs = options.windowStart.getTime();
  if (!previous) return { updatedAfter: options.windowStart, fullPass: true, watermarkMs: windowStartMs };
  const scanName = checkpointKeyOf(options);
  const watermarkMs = instantOf(previous.watermark, 'watermark', scanName);
  if (previous.resumeCursor !== undefined && previous.resumeUpdatedAfter !== undefined) {
    const updatedAfterMs = instantOf(previous.resumeUpdatedAfter, 'resumeUpdatedAfter', scanName);
    return {
      updatedAfter: new Date(updatedAfterMs),
      cursor: previous.resumeCursor,
      // A scan from the window start covers everything, however it came to start there.
      fullPass: updatedAfterMs <= windowStartMs,
      watermarkMs,
    };
  }
  const lastFullPassMs =
    previous.lastFullPassAt === undefined
      ? undefined
      : instantOf(previous.lastFullPassAt, 'lastFullPassAt', scanName);
  const fullPassDue =
    lastFullPassMs === undefined || now.getTime() - lastFullPassMs >= options.fullPassEveryHours * 3_600_000;
  const incrementalFromMs = watermarkMs - options.watermarkOverlapSeconds * 1000;
  const updatedAfterMs = fullPassDue ? windowStartMs : Math.max(windowStartMs, incrementalFromMs);
  return { updatedAfter: new Date(updatedAfterMs), fullPass: updatedAfterMs <= windowStartMs, watermarkMs };
}

function resumeCheckpoint(
  previous: Checkpoint | undefined,
  maxUpdatedAtMs: number,
  cursor: string,
  updatedAfter: Date,
): Checkpoint {
  // Advancing the watermark mid-scan is safe: the resumed scan keeps its own updated_after, and once it
  // completes the watermark is the latest updated_at over both parts.
  return {
    watermark: new Date(maxUpdatedAtMs).toISOString(),
    resumeCursor: cursor,
    resumeUpdatedAfter: updatedAfter.toISOString(),
    ...(previous?.lastFullPassAt === undefined ? {} : { lastFullPassAt: previous.lastFullPassAt }),
  };
}

function instantOf(text: string, field: keyof Checkpoint, checkpointKey: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new Error(
      `The reconciliation checkpoint ${JSON.stringify(checkpointKey)} has ${field} ` +
        `${JSON.stringify(text)}, which is not an ISO-8601 instant; delete the checkpoint to start a full pass.`,
    );
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------- mapping

type MappedNight = { readonly key: RoomNightKey } | { readonly missing: readonly MappingEntity[] };

/**
 * Resolves a night's three external ids. Lookups, misses included, are memoised for the run: a page repeats the
 * same few ids thousands of times, and the resolver does not cache misses. A mapping added mid-run is therefore
 * used from the next run on.
 */
class NightMapper {
  readonly #resolver: Pick<MappingResolver, 'resolve'>;
  readonly #sourceId: string;
  readonly #channel: string;
  readonly #memo = new Map<string, Promise<string | undefined>>();
  readonly unmappedIds: Record<MappingEntity, Set<string>> = {
    property: new Set(),
    roomType: new Set(),
    ratePlan: new Set(),
  };

  constructor(resolver: Pick<MappingResolver, 'resolve'>, options: ReconcileRunOptions) {
    this.#resolver = resolver;
    this.#sourceId = options.sourceId;
    this.#channel = options.channel;
  }

  async map(night: ProviderNight): Promise<MappedNight> {
    const [propertyId, roomTypeId, ratePlanId] = await Promise.all([
      this.#internalId('property', night.propertyExternalId),
      this.#internalId('roomType', night.roomTypeExternalId),
      this.#internalId('ratePlan', night.ratePlanExternalId),
    ]);
    if (propertyId === undefined || roomTypeId === undefined || ratePlanId === undefined) {
      const missing: MappingEntity[] = [];
      if (propertyId === undefined) missing.push('property');
      if (roomTypeId === undefined) missing.push('roomType');
      if (ratePlanId === undefined) missing.push('ratePlan');
      return { missing };
    }
    return { key: { propertyId, roomTypeId, ratePlanId, channel: this.#channel, date: night.date } };
  }

  #internalId(entity: MappingEntity, externalId: string): Promise<string | undefined> {
    const memoKey = `${entity}|${externalId}`;
    let lookup = this.#memo.get(memoKey);
    if (!lookup) {
      lookup = this.#resolver.resolve(this.#sourceId, entity, externalId).then((target) => {
        if (target === undefined && this.unmappedIds[entity].size < UNMAPPED_IDS_KEPT) {
          this.unmappedIds[entity].add(externalId);
        }
        return target?.internalId;
      });
      this.#memo.set(memoKey, lookup);
    }
    return lookup;
  }
}

function toPolledNight(night: ProviderNight, key: RoomNightKey): PolledNight {
  return {
    key,
    updatedAt: night.updatedAt,
    ...(night.rate === undefined ? {} : { rate: night.rate }),
    ...(night.availability === undefined ? {} : { availability: night.availability }),
    ...(night.restrictions === undefined ? {} : { restrictions: night.restrictions }),
  };
}

async function handlePage(
  page: PolledPage,
  mapper: NightMapper,
  tally: RunTally,
  decider: DriftDecider,
): Promise<void> {
  tally.addPage(page);
  const batch: PolledNight[] = [];
  for (const night of page.nights) {
    const mapped = await mapper.map(night);
    if ('missing' in mapped) tally.addUnmapped(mapped.missing);
    else batch.push(toPolledNight(night, mapped.key));
  }
  tally.mapped += batch.length;
  if (batch.length > 0) await decider.handle(batch);
}

/** Applies the threshold to each property's drift over the run so far (see the top of this file). */
class DriftDecider {
  readonly #tally: RunTally;
  readonly #options: DriftOptions;
  readonly #deps: DriftDependencies;
  /** Properties whose drift so far exceeded the threshold: corrected for the rest of the run. */
  readonly correcting = new Set<string>();
  /** Mismatched nights of properties not (yet) being corrected, by property. */
  readonly #heldBack = new Map<string, PolledNight[]>();

  constructor(tally: RunTally, options: ReconcileRunOptions, deps: ReconcileRunDeps) {
    this.#tally = tally;
    this.#options = options.drift;
    this.#deps = {
      ari: deps.ari,
      audit: deps.audit,
      clock: deps.clock,
      runId: deps.runId,
      ...(deps.availabilityFor ? { availabilityFor: deps.availabilityFor } : {}),
    };
  }

  async handle(batch: readonly PolledNight[]): Promise<void> {
    if (this.#options.dryRun) {
      this.#addDrift(await reconcileDrift(batch, this.#deps, this.#options));
      return;
    }
    // A property already being corrected needs one pass, which measures before it writes; the others are
    // measured first, so that local state is read twice only on the page where a property crosses.
    const correcting = batch.filter((night) => this.correcting.has(night.key.propertyId));
    const undecided = batch.filter((night) => !this.correcting.has(night.key.propertyId));
    if (correcting.length > 0) {
      const report = await this.#correct(correcting);
      this.#addDrift(report);
    }
    if (undecided.length === 0) return;
    const measured = await reconcileDrift(undecided, this.#deps, { ...this.#options, dryRun: true });
    this.#addDrift(measured);
    const mismatched = new Set(measured.mismatches.map((mismatch) => nightId(mismatch.key)));
    const byProperty = new Map<string, PolledNight[]>();
    for (const night of undecided) {
      if (!mismatched.has(nightId(night.key))) continue;
      const nights = byProperty.get(night.key.propertyId) ?? [];
      nights.push(night);
      byProperty.set(night.key.propertyId, nights);
    }
    for (const [propertyId, nights] of byProperty) {
      const due = [...(this.#heldBack.get(propertyId) ?? []), ...nights];
      if (this.#tally.driftPercentOf(propertyId) > this.#options.thresholdPercent) {
        this.correcting.add(propertyId);
        this.#heldBack.delete(propertyId);
        await this.#correct(due);
      } else {
        this.#heldBack.set(propertyId, due);
      }
    }
  }

  /**
   * Threshold 0: the decision is taken. reconcileDrift still compares before writing, so a webhook that landed
   * since the measurement is respected, and only groups the provider changed after our value are written.
   */
  async #correct(nights: readonly PolledNight[]): Promise<DriftReport> {
    const report = await reconcileDrift(nights, this.#deps, {
      thresholdPercent: 0,
      dryRun: false,
      recordObserved: false,
    });
    for (const scope of report.scopes) {
      this.#tally.correctedGroups += scope.correctedGroups;
      this.#tally.skippedCorrections += scope.skippedGroups;
    }
    return report;
  }

  #addDrift(report: DriftReport): void {
    for (const property of report.properties) this.#tally.addDrift(property.propertyId, property);
  }

  /** Records the held-back mismatches of properties that stayed under the threshold as observed. */
  async finish(): Promise<void> {
    if (!this.#options.recordObserved) return;
    for (const nights of this.#heldBack.values()) {
      // Threshold 100 can never be exceeded: this only compares again and audits what still differs.
      await reconcileDrift(nights, this.#deps, {
        thresholdPercent: 100,
        dryRun: false,
        recordObserved: true,
      });
    }
    this.#heldBack.clear();
  }

  actionOf(propertyId: string, stats: DriftStats): ScopeAction {
    if (stats.mismatched === 0) return 'in_sync';
    if (this.#options.dryRun) return 'dry_run';
    return this.correcting.has(propertyId) ? 'corrected' : 'observed';
  }
}

class RunTally {
  pages = 0;
  nightsPolled = 0;
  malformed = 0;
  mapped = 0;
  requests = 0;
  throttled = 0;
  retries = 0;
  correctedGroups = 0;
  skippedCorrections = 0;
  readonly unmapped = { nights: 0, property: 0, roomType: 0, ratePlan: 0 };
  readonly overall = emptyTally();
  readonly properties = new Map<string, Tally>();

  addPage(page: PolledPage): void {
    this.pages += 1;
    this.nightsPolled += page.nights.length;
    this.malformed += page.skipped;
    this.requests += page.requests;
    this.throttled += page.throttled;
    this.retries += page.retries;
  }

  addUnmapped(missing: readonly MappingEntity[]): void {
    this.unmapped.nights += 1;
    for (const entity of missing) this.unmapped[entity] += 1;
  }

  addDrift(propertyId: string, stats: DriftStats): void {
    mergeTally(this.overall, stats);
    let counts = this.properties.get(propertyId);
    if (!counts) {
      counts = emptyTally();
      this.properties.set(propertyId, counts);
    }
    mergeTally(counts, stats);
  }

  driftPercentOf(propertyId: string): number {
    const counts = this.properties.get(propertyId);
    return counts ? driftStatsOf(counts).driftPercent : 0;
  }

  progress(): RunProgress {
    return {
      pages: this.pages,
      nights: this.nightsPolled,
      skipped: this.malformed + this.unmapped.nights,
      drift: driftStatsOf(this.overall).driftPercent,
    };
  }

  summary(mapper: NightMapper, decider: DriftDecider) {
    return {
      pages: this.pages,
      nightsPolled: this.nightsPolled,
      malformed: this.malformed,
      mapped: this.mapped,
      unmapped: {
        ...this.unmapped,
        ids: {
          property: [...mapper.unmappedIds.property],
          roomType: [...mapper.unmappedIds.roomType],
          ratePlan: [...mapper.unmappedIds.ratePlan],
        },
      },
      requests: this.requests,
      throttled: this.throttled,
      retries: this.retries,
      drift: {
        overall: driftStatsOf(this.overall),
        properties: [...this.properties].map(([propertyId, counts]) => {
          const stats = driftStatsOf(counts);
          return { propertyId, ...stats, action: decider.actionOf(propertyId, stats) };
        }),
      },
      correctedGroups: this.correctedGroups,
      skippedCorrections: this.skippedCorrections,
    };
  }
}
