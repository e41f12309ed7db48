import { BlockList, isIP } from 'node:net';
import * as z from 'zod/mini';
import { ApplicableIdSchema, idProblem } from '../domain/applicable';
import { SOURCE_KINDS, type SourceKind } from '../domain/canonical';
import { channelIdOf, isChannelOf, roomNightChannel, sourceOfChannel } from '../domain/channel';
import { DriftOptionsSchema, ParityOptionsSchema, PollingOptionsSchema } from './reconcile-options';
import { ed25519PublicKeyProblem, rsaPublicKeyProblem, signingSecretProblem } from './secret-strength';

/**
 * zod's own `int` check marks its failure as final, and zod then skips every refinement above it: one
 * fractional number anywhere hid the cross-field problems (a duplicate source id) of the whole file. This
 * one only reports, so those are found in the same pass.
 */
export const wholeNumber = z.refine<number>((n) => Number.isSafeInteger(n), {
  error: (issue) => `must be a whole number; received ${String(issue.input)}`,
});

/**
 * Where a secret comes from. In AWS only `secretsManager` is allowed (synth fails otherwise), so that no
 * secret value ever lands in a template, an environment variable or a log; locally any of the three works.
 */
export const SecretRefSchema = secretRefSchema(z.string().check(z.minLength(1)));
export type SecretRef = z.infer<typeof SecretRefSchema>;

function secretRefSchema(value: z.ZodMiniString<string>) {
  return z.union(
    [
      z.strictObject({
        secretsManager: z.string().check(z.minLength(1), z.describe('Secrets Manager secret ARN or name')),
      }),
      z.strictObject({
        env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')),
      }),
      z.strictObject({ value }),
    ],
    {
      error:
        'must be one of { "secretsManager": "<secret name or ARN>" }, { "env": "<VARIABLE>" } or { "value": "<secret>" }',
    },
  );
}

/**
 * A signing secret of one kind: an inline value must meet the kind's strength rule here, at synth or start;
 * values read from Secrets Manager or the environment meet the same rule when ingest resolves them.
 */
function signingSecretRefSchema(kind: SourceKind) {
  return secretRefSchema(
    z.string().check(
      z.superRefine((secret, ctx) => {
        const problem = signingSecretProblem(kind, secret);
        // No `input`: the issue must not carry the secret, even for a caller that asks zod to report inputs.
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
      }),
    ),
  );
}

const CidrSchema = z
  .string()
  .check(z.refine(isCidr, { message: 'must be an IPv4 or IPv6 CIDR such as 38.80.170.0/24' }));

export function isCidr(text: string): boolean {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix))
    return false;
  const family = isIP(address);
  const bits = Number(prefix);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** Answers whether an address is inside any of the CIDRs; built once per source at start-up. */
export function buildAllowlist(cidrs: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix = '0'] = cidr.split('/');
    list.addSubnet(address, Number(prefix), isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
  return (address) => {
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

export const SourceIdSchema = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
    ),
  );

/** The fields every kind shares; only the strength rule for signing secrets differs by kind. */
const sourceFields = <K extends SourceKind>(kind: K) => ({
  kind: z.literal(kind),
  id: SourceIdSchema,
  /** Human label for dashboards and the CLI. */
  displayName: z.optional(z.string().check(z.minLength(1), z.maxLength(120))),
  /** Active signing secrets. Any one of them verifies, which is how rotation works: add the new, then drop the old. */
  secrets: z._default(z.array(signingSecretRefSchema(kind)), []),
  /** How far a signed timestamp may be from our clock, either way. @default 300 */
  toleranceSeconds: z.optional(z.number().check(wholeNumber, z.minimum(1), z.maximum(86_400))),
  /** Sender address ranges. Omitted: the kind's published range if it has one, otherwise any address. */
  allowedCidrs: z.optional(z.array(CidrSchema)),
  /** The provider's REST inventory API, polled on a schedule to find and correct drift. Omitted: not polled. */
  polling: z.optional(
    z.strictObject({
      ...PollingOptionsSchema.shape,
      /** Bearer token for the API; like signing secrets, only a Secrets Manager reference in AWS. */
      token: SecretRefSchema,
      /**
       * The channel polled rates are stored under: the source id, or `<sourceId>:<channelId>` when a channel
       * manager reports one channel's view. Webhooks and polls of the same channel must meet in one item.
       * @default the source id
       */
      channel: z.optional(
        z.string().check(
          z.superRefine((channel, ctx) => {
            // Part of every room-night key the poll writes: the same id rule as a webhook's channel.
            const channelId = channelIdOf(channel);
            const problem = SourceIdSchema.safeParse(sourceOfChannel(channel)).success
              ? channelId === undefined
                ? undefined
                : idProblem(channelId)
              : 'must start with a source id';
            if (problem !== undefined) {
              ctx.addIssue({
                code: 'custom',
                message: `must be "<sourceId>" or "<sourceId>:<channelId>": ${problem}`,
                input: channel,
              });
            }
          }),
        ),
      ),
      /**
       * Poll property by property (the provider's property ids, sent as `property_id`) instead of in one scan:
       * for providers that limit requests per property (`rateLimit.perPropertyPerMinute`). Each property has
       * its own checkpoint and its own share of the run's budget.
       * @default one scan over every property
       */
      propertyIds: z.optional(
        z.array(ApplicableIdSchema).check(
          z.minLength(1),
          z.refine((ids) => new Set(ids).size === ids.length, 'must not name a property twice'),
        ),
      ),
      /** Re-read this far before the last watermark, so a record the provider made visible late is not missed. @default 300 */
      watermarkOverlapSeconds: z._default(
        z.number().check(wholeNumber, z.minimum(0), z.maximum(86_400)),
        300,
      ),
      /** How often a run polls the whole window instead of only what changed. @default 24 */
      fullPassEveryHours: z._default(z.number().check(z.positive(), z.maximum(24 * 366)), 24),
      /**
       * How far back a full pass reaches: records the provider updated within this many days.
       * @default no limit: everything the provider returns
       */
      fullPassWindowDays: z.optional(z.number().check(wholeNumber, z.minimum(1), z.maximum(3660))),
    }),
  ),
});

function publicKeysSchema(problemOf: (key: string) => string | undefined) {
  return z
    .array(
      z.string().check(
        z.superRefine((key, ctx) => {
          const problem = problemOf(key);
          if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
        }),
      ),
    )
    .check(z.minLength(1));
}

export const SourceConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...sourceFields('channel-manager'),
    options: z._default(
      z.strictObject({
        /** `hmac-sha256` signs with a shared secret; `rsa-sha256` with the channel manager's private key. */
        signature: z._default(z.enum(['hmac-sha256', 'rsa-sha256']), 'hmac-sha256'),
        /** PEM RSA public keys (at least 2048 bits) for `rsa-sha256`; any one verifies. */
        publicKeys: z.optional(publicKeysSchema(rsaPublicKeyProblem)),
      }),
      { signature: 'hmac-sha256' },
    ),
  }),
  z.strictObject({ ...sourceFields('ota'), options: z._default(z.strictObject({}), {}) }),
  z.strictObject({ ...sourceFields('pms'), options: z._default(z.strictObject({}), {}) }),
  z.strictObject({ ...sourceFields('mapping'), options: z._default(z.strictObject({}), {}) }),
  z.strictObject({ ...sourceFields('hospitable'), options: z._default(z.strictObject({}), {}) }),
  z.strictObject({
    ...sourceFields('standard-webhooks'),
    options: z._default(
      z.strictObject({
        /** Ed25519 public keys (`whpk_`-prefixed base64, raw base64 or PEM) for `v1a` signatures. */
        publicKeys: z.optional(publicKeysSchema(ed25519PublicKeyProblem)),
      }),
      {},
    ),
  }),
]);
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const IngestSettingsSchema = z._default(
  z.strictObject({
    /**
     * Largest body accepted, in bytes. At most 4 MiB: API Gateway hands the raw body to Lambda base64-encoded
     * (a third larger), and the whole invocation must fit Lambda's 6 MB payload limit. @default 1048576 (1 MiB)
     */
    maxBodyBytes: z._default(
      z.number().check(wholeNumber, z.minimum(1024), z.maximum(4 * 1024 * 1024)),
      1_048_576,
    ),
    /**
     * How long the delivery ledger remembers an idempotency key, in days. A retry within this window is a
     * duplicate; a delivery whose own timestamp is older than this is refused as a replay. @default 30
     */
    dedupeWindowDays: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(365)), 30),
  }),
  { maxBodyBytes: 1_048_576, dedupeWindowDays: 30 },
);

/** An IAM role ARN; `*` in the role's path or name matches any characters (aws:PrincipalArn's StringLike). */
const RoleArnSchema = z
  .string()
  .check(
    z.regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_*/-]+$/,
      'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), "*" allowed in the name',
    ),
  );

/**
 * Who may call the SigV4 read and operator routes, enforced in the API's resource policy: every GET is a read
 * route, every other method (mapping changes, hold and resume, DLQ redrive, replay and delete) is an admin
 * route. An empty list leaves those routes to IAM alone: any principal of the account whose identity policy
 * allows `execute-api:Invoke` on them. Omitted, both lists are empty.
 */
export const ApiAccessSchema = z._default(
  z.strictObject({
    /** Roles allowed to call the read routes (the admin roles may as well). @default [] */
    readRoles: z._default(z.array(RoleArnSchema), []),
    /** Roles allowed to call the admin routes, and the read routes. @default [] */
    adminRoles: z._default(z.array(RoleArnSchema), []),
  }),
  { readRoles: [], adminRoles: [] },
);
export type ApiAccess = z.infer<typeof ApiAccessSchema>;

/**
 * What the edge keeps of the requests it refuses for good (4xx): a record of each, up to a bound per source and
 * second so that a flood cannot run up the bill; beyond it they are only counted. Omitted, it takes its fields'
 * defaults.
 */
export const RejectionSettingsSchema = z.prefault(
  z.strictObject({
    /**
     * Rejections recorded per source and second; the rest of that second's are counted per source and day.
     * Source ids that are not configured share one bound. @default 10
     */
    recordsPerSecond: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(1000)), 10),
    /** Days a rejection record, and a day's count, is kept. @default 7 */
    retentionDays: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(365)), 7),
  }),
  {},
);
export type RejectionSettings = z.infer<typeof RejectionSettingsSchema>;

// Internal ids are parts of the room-night keys, as external ids are: one rule for both.
const InternalIdSchema = ApplicableIdSchema;
const ExternalIdMapSchema = z.record(ApplicableIdSchema, InternalIdSchema);

/**
 * Mapping seeds: a provider's external ids → ParitySync's internal ids. `scope` is a source id, or `*` for ids
 * every source shares. The mapping table overrides these at run time (and is where new mappings go).
 */
export const MappingSeedSchema = z.strictObject({
  scope: z.union([SourceIdSchema, z.literal('*')]),
  /** External hotel / property id → internal property id. */
  properties: z._default(ExternalIdMapSchema, {}),
  /** External room type → internal room type, or `{ propertyId, roomTypeId }` when events carry no property id. */
  roomTypes: z._default(
    z.record(
      ApplicableIdSchema,
      z.union([
        InternalIdSchema,
        z.strictObject({ propertyId: InternalIdSchema, roomTypeId: InternalIdSchema }),
      ]),
    ),
    {},
  ),
  /** External rate plan code → internal rate plan id. */
  ratePlans: z._default(ExternalIdMapSchema, {}),
});
export type MappingSeed = z.infer<typeof MappingSeedSchema>;

/**
 * Inventory constraints per internal property, as channel managers apply them: the physical room count per room type, contract
 * allotments per channel, and what to do with an update that asks for more. `cap` applies
 * min(requested, floor(physical × buffer), allotment) and records the adjustment; `reject` refuses the event.
 */
export const PropertySettingsSchema = z.strictObject({
  propertyId: InternalIdSchema,
  roomTypes: z._default(
    z.array(
      z.strictObject({
        roomTypeId: InternalIdSchema,
        physicalRooms: z.number().check(wholeNumber, z.minimum(0)),
      }),
    ),
    [],
  ),
  /** `channel` is a source id, or `sourceId:channelId` for a channel a channel manager names. */
  allotments: z._default(
    z.array(
      z.strictObject({
        channel: z.string().check(z.minLength(1)),
        roomTypeId: InternalIdSchema,
        rooms: z.number().check(wholeNumber, z.minimum(0)),
      }),
    ),
    [],
  ),
  inventoryPolicy: z._default(
    z.strictObject({
      mode: z._default(z.enum(['cap', 'reject']), 'cap'),
      /** Share of physical rooms channels may sell, keeping the rest for direct bookings. @default 1 */
      buffer: z._default(z.number().check(z.gt(0), z.maximum(1)), 1),
    }),
    { mode: 'cap', buffer: 1 },
  ),
});
export type PropertySettings = z.infer<typeof PropertySettingsSchema>;

/** Time a reconciliation function keeps after its budget, to save the checkpoint and publish metrics. */
export const RECONCILE_TIMEOUT_MARGIN_SECONDS = 60;

/** When and how the scheduled reconciliation runs. Omitted, it takes its fields' defaults. */
export const ReconciliationSettingsSchema = z.prefault(
  z.strictObject({
    /**
     * Minutes between scheduled runs (EventBridge in AWS, a timer locally). At most 480, so that the alarm on
     * three missed runs fits CloudWatch's one-day evaluation window. @default 15
     */
    scheduleMinutes: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(480)), 15),
    /**
     * Time one run may spend, all sources together, in seconds. A run that uses it up saves a cursor and the
     * next run resumes there; the function's timeout is this plus 60 s, which must end before the next run is
     * due. At most 840 (Lambda's limit is 900). @default 600
     */
    budgetSeconds: z._default(z.number().check(wholeNumber, z.minimum(10), z.maximum(840)), 600),
    /** Drift threshold and dry-run. @default the defaults of DriftOptionsSchema's fields */
    drift: z.prefault(DriftOptionsSchema, {}),
    /** Stay dates from today up to this many days ahead are checked for rate parity after each run. @default 365 */
    parityHorizonDays: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(730)), 365),
    /**
     * Work items a run's workers take at once (the worker's SQS event source's maximum concurrency, 2-1000). Each
     * polls one source or property at a time: keep workers × a source's requests per minute per item within what
     * the provider allows. @default 4
     */
    workers: z._default(z.number().check(wholeNumber, z.minimum(2), z.maximum(1000)), 4),
    /**
     * Hours between full rate-parity sweeps over parityHorizonDays; parity on change covers the nights in
     * between. A scheduled run plans the sweep when this long has passed since the last one. @default 24
     */
    paritySweepHours: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(168)), 24),
    /** Days an audit record of a correction is kept. @default 90 */
    auditRetentionDays: z._default(z.number().check(wholeNumber, z.minimum(1), z.maximum(3650)), 90),
  }),
  {},
);
export type ReconciliationSettings = z.infer<typeof ReconciliationSettingsSchema>;

// zod skips a refinement once anything before it failed with a wrong type or an unknown enum value, so a
// duplicate source id went unreported next to a misspelt option. These rules run whatever else failed, and
// each reads only fields that parsed cleanly: one file reports every problem at once.
const always = () => true;

export const ParitySyncConfigSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    version: z.literal(1),
    sources: z.array(SourceConfigSchema).check(z.minLength(1)),
    ingest: IngestSettingsSchema,
    rejections: RejectionSettingsSchema,
    apiAccess: ApiAccessSchema,
    mappings: z._default(z.array(MappingSeedSchema), []),
    properties: z._default(z.array(PropertySettingsSchema), []),
    reconciliation: ReconciliationSettingsSchema,
    /** Rate parity: each property's source of truth and the difference it tolerates. */
    parity: z._default(ParityOptionsSchema, { properties: [], defaultTolerance: {} }),
  })
  .check(z.superRefine((config, ctx) => checkAcrossFields(config, ctx), { when: always }));

/** True when no issue so far sits on `path`, inside it, or on an object around it. */
function intact(issues: readonly z.core.$ZodRawIssue[], path: readonly PropertyKey[]): boolean {
  return !issues.some((issue) => {
    // An unknown key is reported on its object but leaves the known fields beside it parsed.
    if (issue.code === 'unrecognized_keys') return false;
    const at = issue.path ?? [];
    for (let i = 0; i < Math.min(at.length, path.length); i++) if (at[i] !== path[i]) return false;
    return true;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value here may be partly invalid: a source whose kind is unknown is still the raw input, and a field
 * in error holds whatever was given. Each rule checks that the fields it reads are intact first.
 */
function checkAcrossFields(config: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isRecord(config)) return;
  const prior = [...ctx.issues];
  const ok = (...path: PropertyKey[]) => intact(prior, path);
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  const sources: readonly unknown[] = Array.isArray(config.sources) ? config.sources : [];
  const firstWithId = new Map<string, number>();
  sources.forEach((entry, index) => {
    // Once its kind is known, a source parsed as that kind: each field is its parsed value or has its own issue.
    if (ok('sources', index, 'kind')) checkSource(entry as SourceConfig, index, ok, issue);
    // An id is compared even when the rest of its source failed: the duplicate is a problem of its own.
    const id = isRecord(entry) ? entry.id : undefined;
    if (typeof id !== 'string') return;
    const previous = firstWithId.get(id);
    if (previous === undefined) firstWithId.set(id, index);
    else if (ok('sources', index, 'id'))
      issue(['sources', index, 'id'], `duplicate source id "${id}" (also sources[${previous}].id)`);
  });

  const { reconciliation } = config;
  if (
    isRecord(reconciliation) &&
    ok('reconciliation', 'budgetSeconds') &&
    ok('reconciliation', 'scheduleMinutes')
  ) {
    const { budgetSeconds, scheduleMinutes } = reconciliation as ReconciliationSettings;
    if (budgetSeconds + RECONCILE_TIMEOUT_MARGIN_SECONDS > scheduleMinutes * 60) {
      issue(
        ['reconciliation', 'budgetSeconds'],
        `a run of ${budgetSeconds} s (plus ${RECONCILE_TIMEOUT_MARGIN_SECONDS} s to save its checkpoint) does not ` +
          `end before the next one is due every ${scheduleMinutes} minute(s); lower budgetSeconds to at most ` +
          `${scheduleMinutes * 60 - RECONCILE_TIMEOUT_MARGIN_SECONDS} or raise scheduleMinutes`,
      );
    }
  }

  // Only when every source has an id: otherwise "names no configured source" could be wrong.
  const parityProperties = isRecord(config.parity) ? config.parity.properties : undefined;
  if (!Array.isArray(parityProperties) || sources.length === 0) return;
  if (!sources.every((entry) => isRecord(entry) && typeof entry.id === 'string')) return;
  parityProperties.forEach((property: unknown, index) => {
    const sourceOfTruth = isRecord(property) ? property.sourceOfTruth : undefined;
    if (typeof sourceOfTruth !== 'string' || !ok('parity', 'properties', index, 'sourceOfTruth')) return;
    if (firstWithId.has(sourceOfChannel(sourceOfTruth))) return;
    issue(
      ['parity', 'properties', index, 'sourceOfTruth'],
      `names no configured source: "${sourceOfTruth}" must be a source id (or "<sourceId>:<channelId>"); known: ${[...firstWithId.keys()].join(', ')}`,
    );
  });
}

function checkSource(
  source: SourceConfig,
  index: number,
  ok: (...path: PropertyKey[]) => boolean,
  issue: (path: PropertyKey[], message: string) => void,
): void {
  const at = (...path: PropertyKey[]) => ['sources', index, ...path];
  const optionsOk = ok(...at('options'));
  if (
    optionsOk &&
    source.kind === 'channel-manager' &&
    source.options.signature === 'rsa-sha256' &&
    !source.options.publicKeys
  ) {
    issue(at('options', 'publicKeys'), 'rsa-sha256 needs at least one PEM public key');
  }
  const { polling } = source;
  if (polling && ok(...at('polling', 'rateLimit')) && ok(...at('polling', 'propertyIds'))) {
    if (polling.rateLimit.perPropertyPerMinute !== undefined && !polling.propertyIds) {
      issue(
        at('polling', 'propertyIds'),
        'is required with rateLimit.perPropertyPerMinute: a per-property quota can only be kept when ' +
          "each property is polled on its own; list the provider's property ids",
      );
    }
  }
  if (polling && ok(...at('id')) && ok(...at('polling', 'channel'))) {
    if (!isChannelOf(polledChannel(source), source.id)) {
      issue(
        at('polling', 'channel'),
        `must be "${source.id}" or "${source.id}:<channelId>", so that polled and webhook values of one channel meet`,
      );
    }
  }
  if (optionsOk && ok(...at('secrets'))) {
    const usesPublicKeys =
      (source.kind === 'channel-manager' && source.options.signature === 'rsa-sha256') ||
      (source.kind === 'standard-webhooks' && source.options.publicKeys !== undefined);
    if (!usesPublicKeys && source.secrets.length === 0) {
      issue(at('secrets'), `a ${source.kind} source needs at least one secret to verify signatures`);
    }
  }
}

/** Where a polled source's token and run options come from: the source's `polling` block. */
export type PollingSourceConfig = NonNullable<SourceConfig['polling']>;

/** The channel a source's polled nights are stored under: `polling.channel`, by default the source's own. */
export function polledChannel(source: SourceConfig): string {
  return source.polling?.channel ?? roomNightChannel(source.id);
}

export type ParitySyncConfig = z.infer<typeof ParitySyncConfigSchema>;
export type ParitySyncConfigInput = z.input<typeof ParitySyncConfigSchema>;

/** Published sender ranges, applied when a source does not set `allowedCidrs`. */
export const DEFAULT_ALLOWED_CIDRS: Partial<Record<SourceKind, readonly string[]>> = {
  hospitable: ['38.80.170.0/24'],
};

export const DEFAULT_TOLERANCE_SECONDS = 300;

export function effectiveAllowedCidrs(source: SourceConfig): readonly string[] | undefined {
  return source.allowedCidrs ?? DEFAULT_ALLOWED_CIDRS[source.kind];
}

export { SOURCE_KINDS };
