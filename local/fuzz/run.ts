import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import {
  describeCase,
  type Family,
  type FuzzCase,
  type FuzzPlan,
  type FuzzTarget,
  materialise,
  planArbitrary,
} from './generators';
import { type AnswerVerdict, type EdgeAnswer, judgeAnswer, judgeSettlement } from './invariants';
import { formatBytes, listenerPid, residentBytes } from './process-memory';

/**
 * The fuzzer over real HTTP, against a running local stack: sends generated deliveries, follows each accepted
 * event through the read API until apply has settled it, and reports answers, final statuses, invariant
 * breaches (each with a reproduction written to disk) and the stack's resident memory before and after.
 */

export interface FuzzRunOptions {
  readonly baseUrl: string;
  readonly targets: readonly FuzzTarget[];
  readonly families: readonly Family[];
  readonly requests: number;
  readonly seed: number;
  readonly concurrency: number;
  /** Sending stops after this long, however many requests were sent. */
  readonly maxSeconds: number;
  /** How long accepted events may take to settle once sending has stopped. */
  readonly settleSeconds: number;
  /** Where breaches are written, one JSON file and one body file each. */
  readonly outDir: string;
  /** The stack's process, for its memory; found from the port when absent. */
  readonly pid?: number;
  readonly log: (line: string) => void;
}

export interface FuzzRunReport {
  readonly sent: number;
  readonly seconds: number;
  readonly answers: ReadonlyMap<string, number>;
  readonly settled: ReadonlyMap<string, number>;
  readonly breaches: readonly Breach[];
  /**
   * Deliveries answered 503. (a) allows it, as a transient refusal; one that a retry cannot fix (an event the
   * queue refuses every time) is a bug all the same, so each is kept for a look.
   */
  readonly unavailable: readonly Breach[];
  readonly memory: MemoryReport;
}

export interface Breach {
  readonly index: number;
  readonly file: string;
  readonly summary: string;
}

interface MemoryReport {
  readonly pid?: number;
  readonly before?: number;
  readonly peak?: number;
  readonly after?: number;
  readonly fuzzerAfter: number;
}

/** Node's default limit on a request's header block: past it the HTTP server refuses before any handler runs. */
export const HTTP_HEADER_LIMIT_BYTES = 16 * 1024;

const PLANS_PER_CHUNK = 1_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** Plan `index` of a run: chunks are seeded in turn, so that any one plan can be drawn again on its own. */
function plansOf(
  options: Pick<FuzzRunOptions, 'seed' | 'targets' | 'families'>,
  chunk: number,
  count: number,
): FuzzPlan[] {
  const arbitrary = fc
    .constantFrom(...options.families)
    .chain((family) => planArbitrary(options.targets.length, family));
  return fc.sample(arbitrary, { numRuns: count, seed: options.seed + chunk });
}

function headerBlockBytes(headers: Readonly<Record<string, string>>): number {
  return Object.entries(headers).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1') + 4,
    0,
  );
}

export type Sent =
  | { readonly kind: 'answer'; readonly answer: EdgeAnswer }
  | { readonly kind: 'no-answer'; readonly code: string }
  | { readonly kind: 'unsendable'; readonly code: string };

/** POSTs the case exactly as generated: header names as spelt, repeated names kept, the body's exact bytes. */
export function post(url: URL, fuzzCase: FuzzCase, agent?: Agent): Promise<Sent> {
  // Raw pairs rather than an object, so that names keep their spelling and none is merged; Node then adds
  // neither Host nor Content-Length itself.
  const raw: string[] = ['host', url.host];
  for (const [name, value] of Object.entries(fuzzCase.headers)) raw.push(name, value);
  raw.push('content-length', String(fuzzCase.body.length));
  return new Promise((resolve) => {
    let req: ReturnType<typeof request>;
    try {
      req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `/webhooks/${encodeURIComponent(fuzzCase.sourceId)}`,
          method: 'POST',
          headers: raw,
          ...(agent ? { agent } : {}),
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              kind: 'answer',
              answer: {
                status: response.statusCode ?? 0,
                headers: Object.fromEntries(
                  Object.entries(response.headers).map(([name, value]) => [
                    name,
                    Array.isArray(value) ? value.join(', ') : value,
                  ]),
                ),
                body: Buffer.concat(chunks).toString('utf8'),
              },
            }),
          );
          response.on('error', (error: NodeJS.ErrnoException) =>
            resolve({ kind: 'no-answer', code: error.code ?? error.message }),
          );
        },
      );
    } catch (error) {
      // The client itself refuses to send it (a header value HTTP cannot carry): no server ever sees it.
      resolve({ kind: 'unsendable', code: (error as NodeJS.ErrnoException).code ?? String(error) });
      return;
    }
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ kind: 'no-answer', code: error.code ?? error.message }),
    );
    req.end(fuzzCase.body);
  });
}

/**
 * judgeAnswer, for what came back over HTTP. A request the client cannot send is no one's answer. A request whose
 * header block is over the HTTP server's limit is refused by that server before any handler runs, as API Gateway
 * refuses past its own: an answer without a JSON content type (or none at all) is then the server's, not the
 * edge's. Any other connection that ends without an answer breaks (a).
 */
export function judgeSent(fuzzCase: FuzzCase, sent: Sent): AnswerVerdict {
  if (sent.kind === 'unsendable')
    return { outcome: `not sendable by an HTTP client (${sent.code})`, breaches: [] };
  const overLimit = headerBlockBytes(fuzzCase.headers) > HTTP_HEADER_LIMIT_BYTES;
  if (overLimit && (sent.kind === 'no-answer' || !sent.answer.headers['content-type'])) {
    const what = sent.kind === 'answer' ? String(sent.answer.status) : sent.code;
    return {
      outcome: `${what} from the HTTP server (header block over ${HTTP_HEADER_LIMIT_BYTES / 1024} KiB)`,
      breaches: [],
    };
  }
  if (sent.kind === 'no-answer') {
    return {
      outcome: `no answer (${sent.code})`,
      breaches: [`(a) the connection ended without an answer: ${sent.code}`],
    };
  }
  return judgeAnswer(sent.answer);
}

interface Accepted {
  readonly index: number;
  readonly plan: FuzzPlan;
  /** Without its body when that was large: --replay derives it again from the plan. */
  readonly fuzzCase: FuzzCase;
  readonly answer: EdgeAnswer;
  readonly uniquePrefix: string;
}

/**
 * What a reproduction file holds: the case as sent, its body apart; `npm run fuzz -- --replay <file>` sends its plan
 * again, signed afresh.
 */
export interface ReproductionFile extends Omit<FuzzCase, 'body'> {
  readonly index: number;
  readonly seed: number;
  readonly url: string;
  readonly breaches: readonly string[];
  readonly answer?: { readonly status: number; readonly body: string };
  readonly settlement?: unknown;
  /** Null for a large body of an accepted event, which was not kept in memory while the run went on. */
  readonly bodyBase64: string | null;
  readonly bodyFile: string | null;
  readonly plan: FuzzPlan;
}

function writeReproduction(
  options: FuzzRunOptions,
  index: number,
  fuzzCase: FuzzCase,
  plan: FuzzPlan,
  details: Pick<ReproductionFile, 'breaches' | 'answer' | 'settlement'>,
  folder = options.outDir,
): string {
  mkdirSync(folder, { recursive: true });
  const base = join(folder, `${String(index).padStart(7, '0')}-${fuzzCase.kind}`);
  const kept = !BODY_DROPPED.has(fuzzCase);
  if (kept) writeFileSync(`${base}.body`, fuzzCase.body);
  const file: ReproductionFile = {
    index,
    seed: options.seed,
    url: `${options.baseUrl}/webhooks/${fuzzCase.sourceId}`,
    kind: fuzzCase.kind,
    sourceId: fuzzCase.sourceId,
    sampleType: fuzzCase.sampleType,
    steps: fuzzCase.steps,
    ...details,
    headers: fuzzCase.headers,
    bodyBase64: kept ? fuzzCase.body.toString('base64') : null,
    bodyFile: kept ? `${base}.body` : null,
    plan,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(file, null, 2)}\n`);
  return `${base}.json`;
}

function increment(tally: Map<string, number>, key: string): void {
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET /deliveries/{eventId}: the ledger entry the read API shows, or undefined while it cannot be read. */
async function deliveryOf(baseUrl: string, eventId: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`${baseUrl}/deliveries/${encodeURIComponent(eventId)}`);
    if (!response.ok) return undefined;
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Checks that a ParitySync read API answers at `baseUrl` before anything is sent. */
export async function assertStackAnswers(baseUrl: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/deliveries/evt_00000000000000000000000000000000`);
  } catch (cause) {
    throw new Error(`Nothing answers at ${baseUrl}. Start the local stack first with: npm start`, { cause });
  }
  const body = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (response.status !== 404 || body?.error !== 'delivery_not_found') {
    throw new Error(
      `${baseUrl} does not answer like a ParitySync local stack (GET /deliveries/… gave ${response.status}). ` +
        'Check --url.',
    );
  }
}

export async function runFuzz(options: FuzzRunOptions): Promise<FuzzRunReport> {
  const url = new URL(options.baseUrl);
  const pid = options.pid ?? listenerPid(Number(url.port || 80));
  const before = pid === undefined ? undefined : residentBytes(pid);
  let peak = before;
  const sampler = setInterval(() => {
    const now = pid === undefined ? undefined : residentBytes(pid);
    if (now !== undefined && (peak === undefined || now > peak)) peak = now;
  }, 1_000);

  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const answers = new Map<string, number>();
  const settled = new Map<string, number>();
  const breaches: Breach[] = [];
  const unavailable: Breach[] = [];
  const accepted = new Map<string, Accepted>();
  const runStamp = Date.now().toString(36);
  const started = Date.now();
  const deadline = started + options.maxSeconds * 1000;
  let sent = 0;
  let lastProgress = started;

  const breach = (
    index: number,
    fuzzCase: FuzzCase,
    plan: FuzzPlan,
    details: Parameters<typeof writeReproduction>[4],
  ) => {
    const file = writeReproduction(options, index, fuzzCase, plan, details);
    const dropped = BODY_DROPPED.has(fuzzCase)
      ? '\n  (the body, over 16 KiB, was not kept once accepted: --replay builds it again from the plan)'
      : '';
    breaches.push({
      index,
      file,
      summary: `${details.breaches.join('; ')}\n${describeCase(fuzzCase, { maxBase64: 600 })}${dropped}`,
    });
  };

  try {
    for (let chunk = 0; chunk * PLANS_PER_CHUNK < options.requests && Date.now() < deadline; chunk++) {
      const count = Math.min(PLANS_PER_CHUNK, options.requests - chunk * PLANS_PER_CHUNK);
      const plans = plansOf(options, chunk, count).map((plan, offset) => ({
        plan,
        index: chunk * PLANS_PER_CHUNK + offset,
      }));
      await inParallel(plans, options.concurrency, async ({ plan, index }) => {
        if (Date.now() >= deadline) return;
        const uniquePrefix = `fz${runStamp}-${index}`;
        let next = 0;
        const fuzzCase = materialise(plan, {
          targets: options.targets,
          now: new Date(),
          uniqueId: () => `${uniquePrefix}-${++next}`,
        });
        const result = await post(url, fuzzCase, agent);
        sent++;
        const verdict = judgeSent(fuzzCase, result);
        increment(answers, verdict.outcome);
        if (verdict.breaches.length > 0) {
          breach(index, fuzzCase, plan, {
            breaches: verdict.breaches,
            ...(result.kind === 'answer'
              ? { answer: { status: result.answer.status, body: result.answer.body } }
              : {}),
          });
        } else if (result.kind === 'answer' && result.answer.status === 503) {
          const details = {
            breaches: [],
            answer: { status: result.answer.status, body: result.answer.body },
          };
          const file = writeReproduction(
            options,
            index,
            fuzzCase,
            plan,
            details,
            join(options.outDir, '503'),
          );
          unavailable.push({
            index,
            file,
            summary: `${verdict.outcome}: ${fuzzCase.kind}, ${fuzzCase.steps.join('; ')}`,
          });
        } else if (verdict.accepted && result.kind === 'answer') {
          accepted.set(verdict.accepted.eventId, {
            index,
            plan,
            fuzzCase: slim(fuzzCase),
            answer: result.answer,
            uniquePrefix,
          });
        }
        if (Date.now() - lastProgress >= 5_000) {
          lastProgress = Date.now();
          const seconds = (lastProgress - started) / 1000;
          options.log(
            `  ${sent} sent (${Math.round(sent / seconds)}/s), ${accepted.size} accepted, ${breaches.length} breach(es)`,
          );
        }
      });
    }
    const sendingSeconds = (Date.now() - started) / 1000;
    options.log(
      `Sent ${sent} deliveries in ${sendingSeconds.toFixed(1)} s; following ${accepted.size} accepted event(s) until apply settles them…`,
    );

    // Every accepted event must end applied, recorded, parked, or rejected for a domain reason.
    const settleBy = Date.now() + options.settleSeconds * 1000;
    let pending = [...accepted.keys()];
    while (pending.length > 0 && Date.now() < settleBy) {
      const still: string[] = [];
      await inParallel(pending, options.concurrency, async (eventId) => {
        const entry = await deliveryOf(options.baseUrl, eventId);
        if (!entry || typeof entry.status !== 'string') {
          still.push(eventId);
          return;
        }
        const settlement = {
          status: entry.status,
          ...(typeof entry.reason === 'string' ? { reason: entry.reason } : {}),
          ...(typeof entry.lastError === 'string' ? { lastError: entry.lastError } : {}),
        };
        const verdict = judgeSettlement(settlement);
        const origin = accepted.get(eventId) as Accepted;
        if (verdict.breaches.length > 0) {
          increment(settled, `${entry.status}${entry.lastError ? ' after a failed attempt' : ''}`);
          breach(origin.index, origin.fuzzCase, origin.plan, {
            breaches: verdict.breaches.map((b) => `${eventId}: ${b}`),
            answer: { status: origin.answer.status, body: origin.answer.body },
            settlement: entry,
          });
        } else if (verdict.final) {
          const reason = entry.status === 'rejected' ? ` (${String(entry.reason ?? '').split(':')[0]})` : '';
          increment(settled, `${entry.status}${reason}`);
        } else {
          still.push(eventId);
        }
      });
      pending = still;
      if (pending.length > 0) await sleep(1_000);
    }
    for (const eventId of pending) {
      const origin = accepted.get(eventId) as Accepted;
      increment(settled, 'not settled in time');
      breach(origin.index, origin.fuzzCase, origin.plan, {
        breaches: [
          `${eventId}: (b) apply had not settled the event ${options.settleSeconds} s after sending stopped`,
        ],
        answer: { status: origin.answer.status, body: origin.answer.body },
      });
    }
    return {
      sent,
      seconds: (Date.now() - started) / 1000,
      answers,
      settled,
      breaches,
      unavailable,
      memory: {
        ...(pid === undefined ? {} : { pid }),
        ...(before === undefined ? {} : { before }),
        ...(peak === undefined ? {} : { peak }),
        ...(pid !== undefined && residentBytes(pid) !== undefined
          ? { after: residentBytes(pid) as number }
          : {}),
        fuzzerAfter: process.memoryUsage().rss,
      },
    };
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
}

/** Cases whose body was dropped after they were accepted. */
const BODY_DROPPED = new WeakSet<FuzzCase>();
const KEPT_BODY_BYTES = 16 * 1024;

/**
 * The accepted case as kept until apply settles it: a large body is dropped, since tens of thousands of events
 * may be followed at once; a breach then names the plan, from which --replay builds the body again.
 */
function slim(fuzzCase: FuzzCase): FuzzCase {
  if (fuzzCase.body.length <= KEPT_BODY_BYTES) return fuzzCase;
  const dropped = { ...fuzzCase, body: Buffer.alloc(0) };
  BODY_DROPPED.add(dropped);
  return dropped;
}

function table(title: string, rows: readonly (readonly [string, number])[], total: number): string {
  const width = Math.max(title.length, ...rows.map(([label]) => label.length));
  const lines = rows.map(
    ([label, count]) =>
      `  ${label.padEnd(width)}  ${String(count).padStart(8)}  ${((100 * count) / Math.max(total, 1)).toFixed(1).padStart(5)} %`,
  );
  return [`  ${title.padEnd(width)}     count  share`, ...lines].join('\n');
}

export function formatReport(
  report: FuzzRunReport,
  options: { readonly shownBreaches?: number } = {},
): string {
  const byCount = (tally: ReadonlyMap<string, number>) => [...tally].sort((a, b) => b[1] - a[1]);
  const settledTotal = [...report.settled.values()].reduce((a, b) => a + b, 0);
  const { memory } = report;
  const shown = options.shownBreaches ?? 10;
  const lines = [
    '',
    `${report.sent} deliveries in ${report.seconds.toFixed(1)} s (${Math.round(report.sent / Math.max(report.seconds, 0.001))}/s)`,
    '',
    table('HTTP ANSWER', byCount(report.answers), report.sent),
    '',
    settledTotal === 0
      ? '  (no accepted events to follow)'
      : table('FINAL LEDGER STATUS OF ACCEPTED EVENTS', byCount(report.settled), settledTotal),
    '',
    memory.pid === undefined
      ? `Local stack memory: unknown (no process found listening on the port; pass --pid). This fuzzer: ${formatBytes(memory.fuzzerAfter)} resident.`
      : `Local stack (pid ${memory.pid}) resident memory: ${formatBytes(memory.before)} before, ${formatBytes(memory.peak)} at peak, ${formatBytes(memory.after)} after. This fuzzer: ${formatBytes(memory.fuzzerAfter)}.`,
    '',
  ];
  if (report.unavailable.length > 0) {
    lines.push(
      `${report.unavailable.length} deliveries were answered 503, which (a) allows if a retry can succeed. ` +
        `Check that these were transient (reproductions in ${dirname(report.unavailable[0]?.file ?? '')}):`,
      ...report.unavailable.slice(0, shown).map((entry) => `  #${entry.index} ${entry.summary}`),
      ...(report.unavailable.length > shown ? [`  … and ${report.unavailable.length - shown} more`] : []),
      '',
    );
  }
  if (report.breaches.length === 0) {
    lines.push('No invariant breached.');
  } else {
    lines.push(
      `${report.breaches.length} invariant breach(es); reproductions written next to each report file:`,
    );
    for (const breach of report.breaches.slice(0, shown)) {
      lines.push('', `#${breach.index} (${breach.file})`, breach.summary);
    }
    if (report.breaches.length > shown)
      lines.push('', `… and ${report.breaches.length - shown} more in the same folder.`);
  }
  return lines.join('\n');
}
