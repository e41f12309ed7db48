import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { SourceKind } from '../../lambdas/domain/canonical';
import { senderFor } from '../senders';
import { ulid } from '../senders/hospitable';
import {
  cloneJson,
  type FuzzJson,
  formatJsonPath,
  objectPaths,
  type Path,
  pathsOf,
  removeAt,
  repeatFirstKeyAt,
  serialise,
  setAt,
  valueAt,
} from './json';
import {
  describeValue,
  type HostileValue,
  KEYS,
  POOL_NAMES,
  type PoolName,
  poolFor,
  type TimeBounds,
  valuePools,
} from './values';

/**
 * Hostile deliveries for every provider kind. A case starts from a valid sample of the kind (local/senders),
 * is mutated, and is then signed over its final bytes exactly as the kind's real sender signs, so that it
 * passes verification and reaches parsing, validation, normalisation and the applicability contract.
 *
 * A case is first drawn as a plan: plain numbers and names that fast-check can shrink (fewer mutations,
 * milder values) to a minimal reproduction. `materialise` turns a plan into bytes and headers for one `now`.
 */

/** A configured source the fuzzer sends to. */
export interface FuzzTarget {
  readonly sourceId: string;
  readonly kind: SourceKind;
  /** What the kind's sender signs with: the shared secret, or the private key PEM of an RSA source. */
  readonly secret: string;
  readonly bounds: TimeBounds;
}

export type BodyMutation =
  /** Replaces a node; `like` picks the pool matching what the node holds (a date for a date, …). */
  | { readonly op: 'replace'; readonly at: number; readonly pool: PoolName | 'like'; readonly value: number }
  | { readonly op: 'remove'; readonly at: number }
  | {
      readonly op: 'addKey';
      readonly at: number;
      readonly key: number;
      readonly pool: PoolName;
      readonly value: number;
    }
  /** Writes an object's first key twice. */
  | { readonly op: 'repeatKey'; readonly at: number };

export type ByteMutation =
  | { readonly op: 'bom' }
  | { readonly op: 'invalidUtf8' }
  /** A surrogate encoded as three bytes (CESU-8 / WTF-8), which is not UTF-8. */
  | { readonly op: 'encodedSurrogate' }
  | { readonly op: 'truncate'; readonly keep: number }
  | { readonly op: 'append'; readonly text: number }
  | { readonly op: 'whitespace'; readonly size: number }
  | { readonly op: 'wholeBody'; readonly body: number }
  /** The whole body one value nested `depth` arrays deep. */
  | { readonly op: 'nestedBody'; readonly depth: number };

export type HeaderMutation =
  | { readonly op: 'remove'; readonly which: number }
  | { readonly op: 'set'; readonly which: number; readonly value: number }
  | { readonly op: 'contentType'; readonly value: number }
  | { readonly op: 'pad'; readonly size: number }
  | { readonly op: 'many'; readonly count: number }
  | { readonly op: 'upperCaseNames' }
  /** The same header again under another spelling of its name, with another value. */
  | { readonly op: 'respell'; readonly which: number; readonly value: number };

export interface FuzzPlan {
  /** Index of the target among those the plan was drawn for. */
  readonly target: number;
  readonly sampleType: number;
  readonly body: readonly BodyMutation[];
  readonly bytes?: ByteMutation;
  /** Index into SIGNING_SKEWS: how far from now the delivery is signed. */
  readonly signedAt: number;
  /** Index into MESSAGE_IDS: the delivery or message id a scheme signs or sends, where it has one. */
  readonly messageId: number;
  readonly headers: readonly HeaderMutation[];
}

export interface FuzzCase {
  readonly kind: SourceKind;
  readonly sourceId: string;
  readonly sampleType: string;
  /** What was done to the sample, in order. */
  readonly steps: readonly string[];
  readonly body: Buffer;
  /** As sent: names as the sender spells them. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface MaterialiseContext {
  readonly targets: readonly FuzzTarget[];
  readonly now: Date;
  /** Ids for the sample's own id fields; distinct per case, so that distinct cases are distinct events. */
  readonly uniqueId: () => string;
}

// Header values must be what HTTP can carry (no CR, LF or NUL), or a real client could not send the case.
export const HEADER_VALUES: readonly string[] = [
  '',
  ' ',
  '0',
  '-1',
  'x',
  '\u00e9',
  '99999999999999',
  '1e3',
  '1780315200.5',
  'v1,',
  `v1,${'A'.repeat(43)}=`,
  'v1a,AAAA',
  't=1,v1=00',
  't=,v1=',
  'sha256=00',
  'x'.repeat(8_000),
];

export const CONTENT_TYPES: readonly string[] = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.provider+json',
  'application/json; charset="UTF-8"',
  'application/json; charset=latin1',
  'application/json, text/plain',
  'application/jsonx',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
];

export const PAD_SIZES: readonly number[] = [256, 4_096, 8_000, 16_384, 65_536];
export const HEADER_COUNTS: readonly number[] = [10, 100, 500, 2_000];

/** Signing times relative to now, in seconds, given the target's tolerance: at and just past each bound. */
const SIGNING_SKEWS: readonly ((toleranceSeconds: number) => number)[] = [
  () => 0,
  (t) => t,
  (t) => t + 1,
  (t) => -t,
  (t) => -t - 1,
  () => 3_600,
  () => -10 * 365 * 86_400,
];

/** Ids a scheme signs (Standard Webhooks) or sends alongside (the mapping service's delivery id). */
const MESSAGE_IDS: readonly (string | undefined)[] = [
  undefined,
  'msg_fuzz',
  'x'.repeat(200),
  'x'.repeat(201),
  'x'.repeat(256),
  'x'.repeat(257),
  'has space',
  '\u00e9',
  '',
];

const APPENDED: readonly string[] = ['x', '\u0000', '}', ' null', '{}', '\ufeff'];
const WHITESPACE_SIZES: readonly number[] = [1, 1_000, 100_000, 1_100_000];
const WHOLE_BODIES: readonly string[] = [
  '',
  ' ',
  'null',
  '[]',
  '{}',
  '"x"',
  '0',
  '1e400',
  'true',
  '{"a":1}{"b":2}',
  '{"a":1,}',
  "{'a':1}",
  '[1,2',
  'x'.repeat(1_100_000),
];

const NESTED_BODY_DEPTHS: readonly number[] = [64, 1_000, 5_000, 10_000, 100_000];

/** Choices are drawn from 0 to CHOICES - 1 and scaled to a list, so that a smaller choice is an earlier entry. */
const CHOICES = 1 << 16;

function pick<T>(list: readonly T[], choice: number): T {
  return list[Math.min(list.length - 1, Math.floor((choice * list.length) / CHOICES))] as T;
}

/** The node a mutation lands on: one of the non-root paths, or undefined if the body has none. */
function nonRootPath(body: FuzzJson, at: number): Path | undefined {
  const paths = pathsOf(body).slice(1);
  return paths.length === 0 ? undefined : pick(paths, at);
}

function applyBodyMutation(
  body: FuzzJson,
  mutation: BodyMutation,
  pools: ReturnType<typeof valuePools>,
  steps: string[],
): FuzzJson {
  switch (mutation.op) {
    case 'replace': {
      const path = nonRootPath(body, mutation.at);
      if (!path) return body;
      const pool = mutation.pool === 'like' ? poolFor(valueAt(body, path)) : mutation.pool;
      const value = pick(pools[pool], mutation.value);
      steps.push(`replace ${formatJsonPath(path)} with ${pool} ${value.label}`);
      return setAt(body, path, cloneJson(value.value));
    }
    case 'remove': {
      const path = nonRootPath(body, mutation.at);
      if (!path) return body;
      steps.push(`remove ${formatJsonPath(path)}`);
      return removeAt(body, path);
    }
    case 'addKey': {
      const objects = objectPaths(body);
      if (objects.length === 0) return body;
      const path = pick(objects, mutation.at);
      const key = pick(KEYS, mutation.key);
      const value = pick(pools[mutation.pool], mutation.value);
      steps.push(`add ${formatJsonPath([...path, key])} = ${mutation.pool} ${value.label}`);
      return setAt(body, [...path, key], cloneJson(value.value));
    }
    case 'repeatKey': {
      const objects = objectPaths(body);
      if (objects.length === 0) return body;
      const path = pick(objects, mutation.at);
      steps.push(`repeat the first key of ${formatJsonPath(path)}`);
      return repeatFirstKeyAt(body, path);
    }
  }
}

function applyByteMutation(raw: Buffer, mutation: ByteMutation, steps: string[]): Buffer {
  const firstStringValue = () => {
    const at = raw.indexOf('":"');
    return at === -1 ? -1 : at + 3;
  };
  switch (mutation.op) {
    case 'bom':
      steps.push('prefix a UTF-8 byte order mark');
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), raw]);
    case 'invalidUtf8':
    case 'encodedSurrogate': {
      const bytes = mutation.op === 'invalidUtf8' ? [0xc3, 0x28] : [0xed, 0xa0, 0x80];
      const at = Math.max(firstStringValue(), 0);
      steps.push(
        `insert bytes ${bytes.map((b) => b.toString(16)).join(' ')} at byte ${at} (${mutation.op === 'invalidUtf8' ? 'not UTF-8' : 'an encoded surrogate'})`,
      );
      return Buffer.concat([raw.subarray(0, at), Buffer.from(bytes), raw.subarray(at)]);
    }
    case 'truncate': {
      const keep = Math.floor((raw.length * (mutation.keep % 100)) / 100);
      steps.push(`truncate to ${keep} of ${raw.length} bytes`);
      return raw.subarray(0, keep);
    }
    case 'append': {
      const text = pick(APPENDED, mutation.text);
      steps.push(`append ${describeValue(text)}`);
      return Buffer.concat([raw, Buffer.from(text, 'utf8')]);
    }
    case 'whitespace': {
      const size = pick(WHITESPACE_SIZES, mutation.size);
      steps.push(`surround with ${size} bytes of whitespace`);
      const half = Buffer.alloc(Math.floor(size / 2), ' ');
      return Buffer.concat([half, raw, Buffer.alloc(size - half.length, '\n')]);
    }
    case 'wholeBody': {
      const text = pick(WHOLE_BODIES, mutation.body);
      steps.push(`send the body ${describeValue(text)} instead`);
      return Buffer.from(text, 'utf8');
    }
    case 'nestedBody': {
      const depth = pick(NESTED_BODY_DEPTHS, mutation.depth);
      steps.push(`send ${depth} nested arrays as the whole body instead`);
      return Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`, 'utf8');
    }
  }
}

function applyHeaderMutation(
  headers: Record<string, string>,
  signedNames: readonly string[],
  mutation: HeaderMutation,
  steps: string[],
): Record<string, string> {
  switch (mutation.op) {
    case 'remove': {
      const name = pick(signedNames, mutation.which);
      steps.push(`remove header ${name}`);
      const { [name]: _removed, ...rest } = headers;
      return rest;
    }
    case 'set': {
      const name = pick(signedNames, mutation.which);
      const value = pick(HEADER_VALUES, mutation.value);
      steps.push(`set header ${name} to ${describeValue(value)}`);
      return { ...headers, [name]: value };
    }
    case 'contentType': {
      const name = signedNames.find((n) => n.toLowerCase() === 'content-type') ?? 'content-type';
      const value = pick(CONTENT_TYPES, mutation.value);
      steps.push(`set ${name} to ${describeValue(value)}`);
      return { ...headers, [name]: value };
    }
    case 'pad': {
      const size = pick(PAD_SIZES, mutation.size);
      steps.push(`add a header of ${size} bytes`);
      return { ...headers, 'x-fuzz-pad': 'p'.repeat(size) };
    }
    case 'many': {
      const count = pick(HEADER_COUNTS, mutation.count);
      steps.push(`add ${count} headers`);
      const extra: Record<string, string> = {};
      for (let i = 0; i < count; i++) extra[`x-fuzz-${i}`] = String(i);
      return { ...headers, ...extra };
    }
    case 'upperCaseNames':
      steps.push('upper-case every header name');
      return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]));
    case 'respell': {
      const name = pick(signedNames, mutation.which);
      const other = name === name.toUpperCase() ? name.toLowerCase() : name.toUpperCase();
      const value = pick(HEADER_VALUES, mutation.value);
      steps.push(`send ${name} again as ${other}: ${describeValue(value)}`);
      return { ...headers, [other]: value };
    }
  }
}

/** A hospitable sample's ULID from the case's own ids rather than random bytes, so that a case replays exactly. */
function deterministicUlid(now: Date, uniqueId: () => string): string {
  return ulid(now, createHash('sha256').update(uniqueId()).digest());
}

/** Turns a plan into the bytes and headers of one delivery, signed as the target's kind signs. */
export function materialise(plan: FuzzPlan, context: MaterialiseContext): FuzzCase {
  const target = context.targets[plan.target % context.targets.length] as FuzzTarget;
  const sender = senderFor(target.kind);
  const sampleType = pick(sender.sampleTypes, plan.sampleType);
  const sample = sender.sample(sampleType, context.now, context.uniqueId) as FuzzJson;
  if (target.kind === 'hospitable' && typeof sample === 'object' && sample !== null && 'id' in sample) {
    (sample as { id: FuzzJson }).id = deterministicUlid(context.now, context.uniqueId);
  }
  const steps: string[] = [];
  const pools = valuePools(context.now, target.bounds);
  let body = cloneJson(sample);
  for (const mutation of plan.body) body = applyBodyMutation(body, mutation, pools, steps);
  let raw: Buffer = Buffer.from(serialise(body), 'utf8');
  if (plan.bytes) raw = applyByteMutation(raw, plan.bytes, steps);

  const skew = pick(SIGNING_SKEWS, plan.signedAt)(target.bounds.toleranceSeconds);
  if (skew !== 0) steps.push(`sign ${skew} s from now`);
  const messageId = pick(MESSAGE_IDS, plan.messageId);
  if (messageId !== undefined) steps.push(`sign with message id ${describeValue(messageId)}`);
  const signed = sender.sign(raw, {
    secret: target.secret,
    at: new Date(context.now.getTime() + skew * 1000),
    ...(messageId === undefined ? {} : { id: messageId }),
  });
  const signedNames = Object.keys(signed);
  let headers: Record<string, string> = signed;
  for (const mutation of plan.headers) headers = applyHeaderMutation(headers, signedNames, mutation, steps);
  return { kind: target.kind, sourceId: target.sourceId, sampleType, steps, body: raw, headers };
}

/** The choice that picks entry `at` of a list of `length`: the inverse of pick. */
function choiceOf(at: number, length: number): number {
  return Math.ceil((at * CHOICES) / length);
}

/** The plan of a valid sample of `type`, as the sender sends it: no mutation at all. */
export function samplePlan(kind: SourceKind, type: string): FuzzPlan {
  const types = senderFor(kind).sampleTypes;
  const at = types.indexOf(type);
  if (at < 0) throw new Error(`A ${kind} sender has no ${type} sample; it has ${types.join(', ')}.`);
  return {
    target: 0,
    sampleType: choiceOf(at, types.length),
    body: [],
    signedAt: 0,
    messageId: 0,
    headers: [],
  };
}

/**
 * A plan that replaces the nodes at `paths` of a `type` sample with the pool values labelled `label`: a fixed
 * case, written by path and label rather than by choice numbers, for the suite to run on every run.
 */
export function replacementPlan(
  kind: SourceKind,
  type: string,
  replacements: readonly { readonly path: Path; readonly pool: PoolName; readonly label: string }[],
): FuzzPlan {
  const plan = samplePlan(kind, type);
  const now = new Date(0);
  const pools = valuePools(now, { toleranceSeconds: 300, dedupeWindowSeconds: 86_400 });
  let body = cloneJson(senderFor(kind).sample(type, now, () => 'id') as FuzzJson);
  const mutations: BodyMutation[] = [];
  for (const { path, pool, label } of replacements) {
    const paths = pathsOf(body)
      .slice(1)
      .map((p) => JSON.stringify(p));
    const at = paths.indexOf(JSON.stringify(path));
    const value = pools[pool].findIndex((v) => v.label === label);
    if (at < 0 || value < 0)
      throw new Error(`No ${formatJsonPath(path)} in a ${kind} ${type}, or no ${pool} ${label}.`);
    mutations.push({
      op: 'replace',
      at: choiceOf(at, paths.length),
      pool,
      value: choiceOf(value, pools[pool].length),
    });
    body = setAt(body, path, cloneJson((pools[pool][value] as HostileValue).value));
  }
  return { ...plan, body: mutations };
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

/** Which part of a delivery a plan attacks; `any` combines them all. */
export const FAMILIES = ['fields', 'nesting', 'bytes', 'headers', 'any'] as const;
export type Family = (typeof FAMILIES)[number];

const index = fc.nat({ max: CHOICES - 1 });
const FLAT_POOLS = POOL_NAMES.filter((pool) => pool !== 'nesting');

const fieldMutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('replace' as const),
      at: index,
      pool: fc.constantFrom<PoolName | 'like'>('like', ...FLAT_POOLS),
      value: index,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), at: index }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      at: index,
      key: index,
      pool: fc.constantFrom<PoolName>(...FLAT_POOLS),
      value: index,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeatKey' as const), at: index }) },
);

const nestingMutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  fc.record({
    op: fc.constant('replace' as const),
    at: index,
    pool: fc.constant<PoolName | 'like'>('nesting'),
    value: index,
  }),
  fc.record({
    op: fc.constant('addKey' as const),
    at: index,
    key: fc.constant(0),
    pool: fc.constant<PoolName>('nesting'),
    value: index,
  }),
);

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('bom' as const) }),
  fc.record({ op: fc.constant('invalidUtf8' as const) }),
  fc.record({ op: fc.constant('encodedSurrogate' as const) }),
  fc.record({ op: fc.constant('truncate' as const), keep: fc.nat({ max: 99 }) }),
  fc.record({ op: fc.constant('append' as const), text: index }),
  fc.record({ op: fc.constant('whitespace' as const), size: index }),
  fc.record({ op: fc.constant('wholeBody' as const), body: index }),
);

// Weighted so that most cases still reach the body: a wrong content type or a missing header ends a delivery early.
const headerMutation: fc.Arbitrary<HeaderMutation> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), which: index }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), which: index, value: index }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('contentType' as const), value: index }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('pad' as const), size: index }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('many' as const), count: index }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('upperCaseNames' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('respell' as const), which: index, value: index }) },
);

/** Mostly a delivery signed now with the sender's own id; sometimes a skewed time or a hostile id. */
const signingChoice = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: index });

function planOf(
  targets: number,
  parts: {
    body: fc.Arbitrary<BodyMutation[]>;
    bytes: fc.Arbitrary<ByteMutation | undefined>;
    headers: fc.Arbitrary<HeaderMutation[]>;
    signing: boolean;
  },
): fc.Arbitrary<FuzzPlan> {
  const signingIndex = parts.signing ? signingChoice : fc.constant(0);
  return fc
    .record({
      target: fc.nat({ max: targets - 1 }),
      sampleType: index,
      body: parts.body,
      bytes: parts.bytes,
      signedAt: signingIndex,
      messageId: signingIndex,
      headers: parts.headers,
    })
    .map(({ bytes, ...plan }) => (bytes === undefined ? plan : { ...plan, bytes }));
}

/** Plans of one family over `targets` sources. The empty plan (a valid sample, as sent) is every family's floor. */
export function planArbitrary(targets: number, family: Family): fc.Arbitrary<FuzzPlan> {
  const none = fc.constant(undefined);
  const noHeaders = fc.constant<HeaderMutation[]>([]);
  const someFields = (max: number) => fc.array(fieldMutation, { maxLength: max });
  switch (family) {
    case 'fields':
      return planOf(targets, { body: someFields(3), bytes: none, headers: noHeaders, signing: false });
    case 'nesting':
      return fc.oneof(
        {
          weight: 4,
          arbitrary: planOf(targets, {
            body: fc.tuple(nestingMutation, someFields(1)).map(([nested, others]) => [nested, ...others]),
            bytes: none,
            headers: noHeaders,
            signing: false,
          }),
        },
        {
          weight: 1,
          arbitrary: planOf(targets, {
            body: fc.constant([]),
            bytes: fc.record({ op: fc.constant('nestedBody' as const), depth: index }),
            headers: noHeaders,
            signing: false,
          }),
        },
      );
    case 'bytes':
      return planOf(targets, {
        body: someFields(1),
        bytes: byteMutation,
        headers: noHeaders,
        signing: false,
      });
    case 'headers':
      return planOf(targets, {
        body: someFields(1),
        bytes: none,
        headers: fc.array(headerMutation, { maxLength: 3 }),
        signing: true,
      });
    case 'any':
      // Deep nesting has a family of its own: a failure there must not hide the others.
      return planOf(targets, {
        body: someFields(4),
        bytes: fc.oneof({ weight: 2, arbitrary: none }, { weight: 1, arbitrary: byteMutation }),
        headers: fc.array(headerMutation, { maxLength: 2 }),
        signing: true,
      });
  }
}

/**
 * The body as readable text: repeats folded (`⟨[×5000⟩`), characters outside printable ASCII escaped, and cut at
 * `max` characters. The exact bytes travel as base64 beside it.
 */
export function compactText(body: Buffer, max = 600): string {
  const folded = body
    .toString('utf8')
    .replace(/[^\x20-\x7e]/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`)
    .replace(/(.{1,6}?)\1{7,}/gsu, (run, unit: string) => `⟨${unit}×${run.length / unit.length}⟩`);
  return folded.length > max ? `${folded.slice(0, max)}… (${folded.length} chars folded)` : folded;
}

/** A delivery as the reports show it: where it went, what was done, the body (text and exact base64), headers. */
export function describeCase(fuzzCase: FuzzCase, options: { readonly maxBase64?: number } = {}): string {
  const max = options.maxBase64 ?? 2_000;
  const base64 = fuzzCase.body.toString('base64');
  const sha256 = createHash('sha256').update(fuzzCase.body).digest('hex');
  const headers = Object.entries(fuzzCase.headers).map(
    ([name, value]) =>
      `    ${name}: ${value.length > 120 ? `${value.slice(0, 80)}… (${value.length} chars)` : value}`,
  );
  return [
    `  kind: ${fuzzCase.kind}, source: ${fuzzCase.sourceId}, sample: ${fuzzCase.sampleType}`,
    `  steps: ${fuzzCase.steps.length === 0 ? '(none: the sample as sent)' : fuzzCase.steps.join('; ')}`,
    `  body (${fuzzCase.body.length} bytes, sha256 ${sha256}): ${compactText(fuzzCase.body)}`,
    `  body as base64: ${base64.length > max ? `(${base64.length} characters; not shown)` : base64}`,
    `  headers (${Object.keys(fuzzCase.headers).length}):`,
    ...(headers.length > 40 ? [...headers.slice(0, 40), `    … and ${headers.length - 40} more`] : headers),
  ].join('\n');
}
