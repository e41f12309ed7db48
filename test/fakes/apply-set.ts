import type { ApplyDependencies, ApplySignal } from '../../lambdas/apply/apply';
import type { ConsumerDependencies } from '../../lambdas/apply/consumer';
import { BatchHoldView } from '../../lambdas/apply/holds';
import type { MappingSeed, PropertySettings } from '../../lambdas/config/schema';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import type { Clock } from '../../lambdas/shared/clock';
import { MappingResolver } from '../../lambdas/state/resolver';
import {
  InMemoryApplyLedger,
  InMemoryAriStore,
  InMemoryGuestStore,
  InMemoryMappingStore,
  InMemoryReservationStore,
  InMemoryReviewStore,
} from './apply-memory';
import { InMemoryHoldStore } from './controls-memory';

export interface ApplyFakeOptions {
  readonly clock: Clock;
  /** Mappings the resolver knows before any is stored, as a configuration file's `mappings`. */
  readonly seeds?: readonly MappingSeed[];
  readonly properties?: readonly PropertySettings[];
  /** A store to use in place of a fresh InMemoryAriStore, such as one that fails on cue. */
  readonly ari?: InMemoryAriStore;
}

/**
 * Apply's dependencies over fresh in-memory stores, wired as the apply handler wires the DynamoDB ones. The
 * stores are returned too, for the test to look into, with every event put back on the queue and every signal.
 */
export function applyFakes(options: ApplyFakeOptions) {
  const stores = {
    ari: options.ari ?? new InMemoryAriStore(),
    mappingStore: new InMemoryMappingStore(),
    review: new InMemoryReviewStore(),
    reservations: new InMemoryReservationStore(),
    guests: new InMemoryGuestStore(),
    ledger: new InMemoryApplyLedger(),
    holdStore: new InMemoryHoldStore(),
  };
  const requeued: CanonicalEvent[] = [];
  const signals: ApplySignal[] = [];
  const deps: ApplyDependencies = {
    ari: stores.ari,
    mappings: new MappingResolver(stores.mappingStore, options.seeds ?? [], options.clock),
    review: stores.review,
    reservations: stores.reservations,
    guests: stores.guests,
    ledger: stores.ledger,
    // One view for the whole harness, as for one batch: a test that holds a source then takes `withFreshHolds()`.
    holds: new BatchHoldView(stores.holdStore),
    requeue: async (event) => {
      requeued.push(event);
    },
    properties: new Map((options.properties ?? []).map((p) => [p.propertyId, p])),
    clock: options.clock,
    nightConcurrency: 4,
    signal: (signal) => signals.push(signal),
  };
  /** Apply's dependencies as the next batch sees them: the holds read afresh. */
  const withFreshHolds = (): ApplyDependencies => ({ ...deps, holds: new BatchHoldView(stores.holdStore) });
  return { ...stores, requeued, signals, deps, withFreshHolds };
}

/** The SQS consumer's dependencies: apply's fakes (whose ledger keeps the failure notes) and SQS's five receives. */
export function consumerFakes(options: ApplyFakeOptions) {
  const fakes = applyFakes(options);
  const { holds: _perBatch, ...applyDeps } = fakes.deps;
  const deps: ConsumerDependencies = { ...applyDeps, holdStore: fakes.holdStore, maxReceiveCount: 5 };
  return { ...fakes, deps };
}
