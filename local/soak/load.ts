import { randomUUID } from 'node:crypto';
import type { ParitySyncConfig, SourceConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { fieldsOf } from '../json-object';
import { senderFor } from '../senders';
import type { DeliveryOutcome } from './report';

const DAY_MS = 86_400_000;

/** One webhook as a provider holds it: fixed bytes, signed afresh for every attempt. */
export interface Delivery {
  readonly sourceId: string;
  readonly kind: string;
  readonly body: Buffer;
  sign(at: Date): Record<string, string>;
}

interface Blend {
  readonly sourceId: string;
  readonly type: string;
  /** Relative share of the load. */
  readonly weight: number;
  /** Varies the sample, so that deliveries spread over room nights and reservations. */
  readonly vary?: (sample: Record<string, unknown>, now: Date) => void;
}

const dateAfter = (now: Date, days: number) =>
  new Date(now.getTime() + days * DAY_MS).toISOString().slice(0, 10);
const randomDays = () => 1 + Math.floor(Math.random() * 60);

/**
 * Mostly rate updates naming the demo configuration's mapped ids (HOTEL001, DBL-STD, BAR), so that they apply
 * rather than park; reservations for the same hotel; and a few types the edge only records.
 */
const BLENDS: readonly Blend[] = [
  {
    sourceId: 'channel-manager-demo',
    type: 'rate_update',
    weight: 30,
    vary(sample, now) {
      const from = randomDays();
      sample.date_range = [dateAfter(now, from), dateAfter(now, from + 2)];
      sample.base_rate = 100 + Math.floor(Math.random() * 100);
    },
  },
  {
    sourceId: 'standard-webhooks-demo',
    type: 'ari.updated',
    weight: 25,
    vary(sample, now) {
      const from = randomDays();
      const data = sample.data as Record<string, unknown>;
      data.dateFrom = dateAfter(now, from);
      data.dateTo = dateAfter(now, from + 2);
    },
  },
  {
    sourceId: 'ota-demo',
    type: 'rate_update',
    weight: 20,
    vary(sample, now) {
      sample.effective_date = dateAfter(now, randomDays());
    },
  },
  { sourceId: 'pms-demo', type: 'reservation.created', weight: 15 },
  { sourceId: 'standard-webhooks-demo', type: 'invoice.paid', weight: 5 },
  { sourceId: 'hospitable-demo', type: 'message.created', weight: 5 },
];

/** Makes fresh deliveries in the blend's proportions, each signed as its source's provider signs. */
export async function deliveryFactory(config: ParitySyncConfig): Promise<() => Delivery> {
  const resolver = createSecretResolver({});
  const prepared = await Promise.all(
    BLENDS.map(async (blend) => {
      const source = config.sources.find((s) => s.id === blend.sourceId);
      if (source === undefined) throw new Error(`The configuration has no source ${blend.sourceId}`);
      const [secret] = await resolver.secretsFor(source);
      if (secret === undefined) throw new Error(`Source ${blend.sourceId} has no secret to sign with`);
      return { blend, source, secret };
    }),
  );
  const total = BLENDS.reduce((sum, blend) => sum + blend.weight, 0);
  return () => {
    let pick = Math.random() * total;
    const chosen =
      prepared.find(({ blend }) => {
        pick -= blend.weight;
        return pick < 0;
      }) ?? prepared[0];
    if (chosen === undefined) throw new Error('No delivery blend');
    return makeDelivery(chosen.source, chosen.secret, chosen.blend);
  };
}

function makeDelivery(source: SourceConfig, secret: string, blend: Blend): Delivery {
  const sender = senderFor(source.kind);
  const now = new Date();
  const sample = sender.sample(blend.type, now, randomUUID);
  blend.vary?.(sample, now);
  const body = Buffer.from(JSON.stringify(sample));
  // Kinds that send a message id keep it across retries: it is what makes a retry the same delivery.
  const id = `msg_${randomUUID()}`;
  return {
    sourceId: source.id,
    kind: source.kind,
    body,
    sign: (at) => sender.sign(body, { secret, at, id }),
  };
}

export interface SendPolicy {
  readonly url: string;
  /** No attempt starts after this time (epoch ms, asked each time); the delivery counts as given up. */
  readonly giveUpAt: () => number;
  readonly maxAttempts: number;
  /** How long one attempt may take before the sender treats it as failed. */
  readonly attemptTimeoutMs: number;
}

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 8_000;

/**
 * Sends a delivery the way a provider does: on a 5xx, a 409 or a network error, the same bytes again (re-signed,
 * for kinds that sign a send time) after the Retry-After the edge gave, or after a doubling backoff when it gave
 * none or the connection failed, either with jitter. Any other answer ends it.
 */
export async function send(delivery: Delivery, policy: SendPolicy): Promise<DeliveryOutcome> {
  let attempts = 0;
  let serverErrors = 0;
  let serverErrorsWithoutRetryAfter = 0;
  let networkErrors = 0;
  let conflicts = 0;
  let backoff = FIRST_BACKOFF_MS;
  let lastProblem = '';
  const outcome = (rest: Pick<DeliveryOutcome, 'answer'> & Partial<DeliveryOutcome>): DeliveryOutcome => ({
    kind: delivery.kind,
    attempts,
    serverErrors,
    serverErrorsWithoutRetryAfter,
    networkErrors,
    conflicts,
    ...rest,
  });
  const nextBackoff = () => {
    const wait = jittered(backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    return wait;
  };

  while (true) {
    attempts += 1;
    let wait: number;
    try {
      const response = await fetch(`${policy.url}/webhooks/${delivery.sourceId}`, {
        method: 'POST',
        headers: delivery.sign(new Date()),
        body: delivery.body,
        signal: AbortSignal.timeout(policy.attemptTimeoutMs),
      });
      const text = await response.text();
      const body = fieldsOf(text);
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      if (response.status === 200) {
        const answer = body.status === 'duplicate' ? 'duplicate' : 'accepted';
        return outcome({
          answer,
          ...(typeof body.eventId === 'string' ? { eventId: body.eventId } : {}),
          ...(answer === 'accepted' && (body.action === 'enqueued' || body.action === 'recorded')
            ? { action: body.action }
            : {}),
        });
      }
      lastProblem = `${response.status} ${String(body.error ?? text.slice(0, 80))}`;
      if (response.status >= 500) {
        serverErrors += 1;
        if (retryAfter === undefined) serverErrorsWithoutRetryAfter += 1;
        wait = retryAfter === undefined ? nextBackoff() : jittered(retryAfter);
      } else if (response.status === 409 && retryAfter !== undefined) {
        conflicts += 1;
        wait = jittered(retryAfter);
      } else {
        return outcome({ answer: 'refused', refusal: lastProblem });
      }
    } catch (error) {
      networkErrors += 1;
      lastProblem = `network error: ${error instanceof Error ? (error.cause ?? error).toString() : String(error)}`;
      wait = nextBackoff();
    }
    if (attempts >= policy.maxAttempts || Date.now() + wait > policy.giveUpAt()) {
      return outcome({ answer: 'gave_up', refusal: `after ${attempts} attempts, last: ${lastProblem}` });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * At least the wait asked for, and up to half as long again: senders refused together by one outage would
 * otherwise all come back in the same second and be refused together again.
 */
function jittered(ms: number): number {
  return Math.round(ms * (1 + Math.random() / 2));
}

/** Retry-After in seconds or as an HTTP date (RFC 9110), as milliseconds from now. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
