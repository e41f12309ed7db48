import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Clock } from '../shared/clock';
import { ParitySyncError } from '../shared/errors';
import { httpStatusOf } from '../shared/http-status';
import {
  INGEST_METRICS,
  INGEST_REJECTION_REASONS,
  type IngestRejectionReason,
  METRIC_DIMENSIONS,
  SIGNATURE_FAILURE_CODES,
} from '../shared/metric-names';
import {
  type IngestDependencies,
  type IngestRequest,
  type IngestResult,
  type IngestTrace,
  ingest,
} from './ingest';
import { recordRejection } from './rejections';

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/**
 * Seconds a sender should wait before retrying: briefly while another delivery of the event is in flight, longer
 * after any 5xx, where nothing was accepted and a retry is the sender's only way to deliver the event. A 5xx
 * usually hits every sender at once (the ledger or the queue is down), so its wait is spread over a range:
 * one fixed value would bring all of their retries back in the same second.
 */
const RETRY_AFTER_IN_PROGRESS = '5';
export const RETRY_AFTER_SERVER_ERROR_SECONDS = { min: 20, max: 40 } as const;

/** A whole number of seconds in RETRY_AFTER_SERVER_ERROR_SECONDS, from `random` in [0, 1). */
export function serverErrorRetryAfter(random: () => number): string {
  const { min, max } = RETRY_AFTER_SERVER_ERROR_SECONDS;
  return String(min + Math.min(max - min, Math.floor(random() * (max - min + 1))));
}

function respond(
  statusCode: number,
  body: Record<string, unknown>,
  random: () => number,
): APIGatewayProxyResult {
  const retryAfter =
    statusCode === 409
      ? RETRY_AFTER_IN_PROGRESS
      : statusCode >= 500
        ? serverErrorRetryAfter(random)
        : undefined;
  return {
    statusCode,
    headers: retryAfter ? { ...JSON_HEADERS, 'retry-after': retryAfter } : JSON_HEADERS,
    body: JSON.stringify(body),
  };
}

function bodyFor(result: IngestResult): Record<string, unknown> {
  switch (result.status) {
    case 'accepted':
      return { status: 'accepted', eventId: result.eventId, action: result.action };
    case 'duplicate':
      return {
        status: 'duplicate',
        eventId: result.eventId,
        message: `Event ${result.eventId} was already accepted at ${result.firstReceivedAt}; nothing was queued again.`,
      };
    case 'verified':
      return { status: 'verified' };
  }
}

function lowerCaseHeaders(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

function rawBodyOf(event: APIGatewayProxyEvent): Buffer {
  if (event.body == null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export type IngestMetricUnit = 'Count' | 'Milliseconds';

/** Where the edge's metrics go: Powertools in Lambda (see `powertoolsIngestMetrics`), a recorder in tests. */
export interface IngestMetrics {
  addMetric(
    name: string,
    unit: IngestMetricUnit,
    value: number,
    dimensions?: Readonly<Record<string, string>>,
  ): void;
  /** Flushes what the invocation added. Called once per delivery, after the answer is decided. */
  publish(): void;
}

const NO_METRICS: IngestMetrics = { addMetric: () => {}, publish: () => {} };

const KNOWN_REASONS: ReadonlySet<string> = new Set(INGEST_REJECTION_REASONS);

/** The error code as a metric dimension, folded into `other` if unlisted so that cardinality stays bounded. */
export function rejectionReason(code: string): IngestRejectionReason {
  return KNOWN_REASONS.has(code) ? (code as IngestRejectionReason) : 'other';
}

function countRefusal(metrics: IngestMetrics, code: string): void {
  metrics.addMetric(INGEST_METRICS.rejected, 'Count', 1, {
    [METRIC_DIMENSIONS.reason]: rejectionReason(code),
  });
  if (SIGNATURE_FAILURE_CODES.has(code)) metrics.addMetric(INGEST_METRICS.signatureFailures, 'Count', 1);
}

/**
 * Adapts Powertools Metrics. Metrics without dimensions share the instance's buffer; a metric with dimensions
 * goes out as its own single metric, because dimensions added to the instance would apply to every metric in
 * the buffer (EventsReceived would gain a `reason`). Those are held until `publish`, so one delivery writes
 * its metrics together at the end.
 *
 * One single-metric instance serves every delivery: each `singleMetric()` builds a whole Metrics (environment
 * reads, a new Console, its stores), about as much CPU per delivery as verifying and normalising it. It
 * publishes on each `addMetric` and then drops the dimensions added to it, keeping the default dimensions it
 * was created with (the ingest function sets none after start-up).
 */
export function powertoolsIngestMetrics(
  metrics: Pick<Metrics, 'addMetric' | 'singleMetric' | 'publishStoredMetrics'>,
): IngestMetrics {
  const dimensioned: Array<{
    name: string;
    unit: IngestMetricUnit;
    value: number;
    dimensions: Readonly<Record<string, string>>;
  }> = [];
  let single: ReturnType<typeof metrics.singleMetric> | undefined;
  return {
    addMetric(name, unit, value, dimensions) {
      if (dimensions === undefined) metrics.addMetric(name, unit, value);
      else dimensioned.push({ name, unit, value, dimensions });
    },
    publish() {
      for (const metric of dimensioned.splice(0)) {
        single ??= metrics.singleMetric();
        // A metric refused by a validation error leaves its dimensions behind; they must not reach the next one.
        single.clearDimensions();
        for (const [dimension, value] of Object.entries(metric.dimensions))
          single.addDimension(dimension, value);
        single.addMetric(metric.name, metric.unit, metric.value);
      }
      metrics.publishStoredMetrics();
    },
  };
}

/**
 * Maps an API Gateway proxy event to the ingest domain and its outcome to an HTTP answer, with one structured
 * log line and one set of metrics per delivery. Logs and metrics carry ids, codes, outcome and latency only:
 * never secrets, signatures or payloads.
 */
export function createIngestHttpHandler(
  deps: IngestDependencies,
  logger: Logger,
  metrics: IngestMetrics = NO_METRICS,
  clock: Clock = deps.clock,
  /** Spreads the Retry-After of a 5xx; Math.random in production, fixed in tests. */
  random: () => number = Math.random,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const started = clock.now().getTime();
    metrics.addMetric(INGEST_METRICS.received, 'Count', 1);
    try {
      return await handleDelivery(event, started);
    } finally {
      metrics.addMetric(INGEST_METRICS.latency, 'Milliseconds', clock.now().getTime() - started);
      publishQuietly();
    }
  };

  /**
   * Records a refusal the sender must fix in the rejection log, and says how it went for the log line. The
   * answer stands whatever happens here: a failure to record is logged and counted, never answered.
   */
  async function recordIfRejected(
    request: IngestRequest,
    status: number,
    code: string,
    event: APIGatewayProxyEvent,
  ): Promise<string | undefined> {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const result = await recordRejection(request, { status, code, requestId }, deps);
    if (result.outcome === 'failed') {
      metrics.addMetric(INGEST_METRICS.rejectionsNotRecorded, 'Count', 1);
      logger.warn('rejection not recorded', {
        sourceId: request.sourceId,
        status,
        error: code,
        cause: describeCause(result.cause),
      });
    }
    return result.outcome === 'not_a_rejection' ? undefined : result.outcome;
  }

  /** A metrics failure must never change the answer the sender gets. */
  function publishQuietly(): void {
    try {
      metrics.publish();
    } catch (error) {
      logger.warn('could not publish metrics', { error: describeCause(error) });
    }
  }

  async function handleDelivery(
    event: APIGatewayProxyEvent,
    started: number,
  ): Promise<APIGatewayProxyResult> {
    const sourceId = event.pathParameters?.sourceId ?? '';
    const trace: IngestTrace = {};
    const request = {
      sourceId,
      headers: lowerCaseHeaders(event),
      rawBody: rawBodyOf(event),
      sourceIp: event.requestContext?.identity?.sourceIp,
    };
    // The event id is the correlation id across ingest, queue and apply; it is known once normalised.
    const common = () => ({
      correlation_id: trace.eventId,
      sourceId,
      kind: trace.kind,
      providerEventType: trace.providerEventType,
      verification: trace.verified === undefined ? 'not_reached' : trace.verified ? 'passed' : 'failed',
      bodyBytes: request.rawBody.length,
      latencyMs: clock.now().getTime() - started,
    });
    try {
      const result = await ingest(request, deps, trace);
      if (result.status === 'accepted') {
        metrics.addMetric(INGEST_METRICS.accepted, 'Count', 1, { [METRIC_DIMENSIONS.action]: result.action });
      } else if (result.status === 'duplicate') {
        metrics.addMetric(INGEST_METRICS.duplicates, 'Count', 1);
      }
      if (result.status === 'accepted' && !result.ledgerConfirmed) {
        logger.warn('event queued but ledger not confirmed; a later retry may queue it again', common());
      }
      logger.info('delivery', {
        ...common(),
        outcome: result.status,
        ...(result.status === 'accepted' ? { action: result.action, recovered: result.recovered } : {}),
        ...(result.status === 'duplicate' ? { ledgerStatus: result.ledgerStatus } : {}),
        status: 200,
      });
      return respond(200, bodyFor(result), random);
    } catch (error) {
      const status = httpStatusOf(error);
      if (error instanceof ParitySyncError && status !== undefined) {
        countRefusal(metrics, error.code);
        const rejection = await recordIfRejected(request, status, error.code, event);
        const log = status >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
        log('delivery refused', {
          ...common(),
          outcome: 'refused',
          status,
          error: error.code,
          ...(rejection ? { rejection } : {}),
          ...(status === 403 ? { sourceIp: request.sourceIp } : {}),
          ...(status >= 500 ? { cause: describeCause(error.cause) } : {}),
        });
        return respond(status, error.toBody(), random);
      }
      countRefusal(metrics, 'internal_error');
      logger.error('delivery failed unexpectedly', {
        ...common(),
        outcome: 'error',
        error: describeCause(error),
      });
      return respond(
        500,
        {
          error: 'internal_error',
          message: 'The delivery could not be processed and was not accepted. Retry the delivery.',
        },
        random,
      );
    }
  }
}

/** Error name and message only: SDK errors can embed request details, and stacks add nothing for ops here. */
function describeCause(cause: unknown): string | undefined {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return cause === undefined ? undefined : String(cause);
}
