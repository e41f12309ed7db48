/**
 * Apply-side write throughput: DynamoDbAriStore.writeNight (one conditional UpdateItem per room night for events
 * in order) against a plain unconditional PutItem of the same item, both against DynamoDB Local in the same
 * run. The result is a ratio, so it compares across machines; nothing here asserts a duration.
 */
import { randomBytes } from 'node:crypto';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type NightWrite, type RoomNightKey, versionOf } from '../lambdas/domain/state';
import { ARI_STATE } from '../lambdas/shared/topology';
import { DynamoDbAriStore } from '../lambdas/state/dynamodb-ari-store';
import { LOCAL_AWS, startEmulators } from '../local/emulators';
import { provision } from '../local/provision';

export const APPLY_TARGET_RATIO = 0.6;
const NIGHTS = Number(process.env.BENCH_APPLY_NIGHTS ?? 2000);
const IN_FLIGHT = 16;
const ROUNDS = Number(process.env.BENCH_APPLY_ROUNDS ?? 3);
/** Writes of each kind before timing: DynamoDB Local's JIT and the SDK's connections warm up on the first few. */
const WARM_UP = 300;

const WRITE: NightWrite = {
  rate: { amountMinor: 12950, currency: 'EUR' },
  availability: { rooms: 19, requested: 25, cappedBy: 'physical 20 × buffer 0.95 = 19' },
  restrictions: { minLengthOfStay: 2, closedToArrival: false, stopSell: false },
};

/** `count` distinct room nights of one fresh property: a date per night across room types and rate plans. */
function nightsOf(propertyId: string, count: number): RoomNightKey[] {
  return Array.from({ length: count }, (_, index) => {
    const day = new Date(Date.UTC(2026, 0, 1) + Math.floor(index / 8) * 86_400_000);
    return {
      propertyId,
      roomTypeId: `rt-${index % 4}`,
      ratePlanId: `rp-${Math.floor(index / 4) % 2}`,
      channel: 'cm-bench:booking',
      date: day.toISOString().slice(0, 10),
    };
  });
}

/** The item writeNight creates for `key` with every group, written whole and unconditionally. */
function plainItem(key: RoomNightKey, version: string, eventId: string): Record<string, AttributeValue> {
  const ids = [key.roomTypeId, key.ratePlanId, key.channel].map(encodeURIComponent);
  return {
    pk: { S: `P#${key.propertyId}` },
    sk: { S: [key.date, ...ids].join('#') },
    propertyId: { S: key.propertyId },
    roomTypeId: { S: key.roomTypeId },
    ratePlanId: { S: key.ratePlanId },
    channel: { S: key.channel },
    date: { S: key.date },
    rate: { M: { amountMinor: { N: '12950' }, currency: { S: 'EUR' } } },
    rateVersion: { S: version },
    rateEventId: { S: eventId },
    availability: {
      M: { rooms: { N: '19' }, requested: { N: '25' }, cappedBy: { S: 'physical 20 × buffer 0.95 = 19' } },
    },
    availabilityVersion: { S: version },
    availabilityEventId: { S: eventId },
    restrictions: {
      M: { minLengthOfStay: { N: '2' }, closedToArrival: { BOOL: false }, stopSell: { BOOL: false } },
    },
    restrictionsVersion: { S: version },
    restrictionsEventId: { S: eventId },
  };
}

/** Runs `write` for every key with `inFlight` requests outstanding; returns room nights per second. */
async function throughput(
  keys: readonly RoomNightKey[],
  inFlight: number,
  write: (key: RoomNightKey, index: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = next++; index < keys.length; index = next++) {
        await write(keys[index] as RoomNightKey, index);
      }
    }),
  );
  return keys.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function applyThroughput(): Promise<{ ratio: number; meetsTarget: boolean }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const emulators = await startEmulators();
  const clientOptions = LOCAL_AWS;
  const dynamodb = new DynamoDBClient({ ...clientOptions, endpoint: emulators.dynamodbEndpoint });
  const sqs = new SQSClient({ ...clientOptions, endpoint: emulators.sqsEndpoint });
  try {
    const prefix = `bench${randomBytes(4).toString('hex')}`;
    const { tables } = await provision({ dynamodb, sqs, prefix });
    const tableName = tables[ARI_STATE.id];
    if (tableName === undefined) throw new Error('ARI state table was not provisioned');
    const store = new DynamoDbAriStore(dynamodb, tableName);

    const version = versionOf({ occurredAt: '2026-03-01T10:00:00.000Z', idempotencyKey: 'bench' });
    let properties = 0;
    // A fresh property per measurement, so both sides always create new room nights of the same shape.
    const freshNights = (count: number) => nightsOf(`prop-bench-${properties++}`, count);
    const put = (keys: readonly RoomNightKey[]) =>
      throughput(keys, IN_FLIGHT, (key, index) =>
        dynamodb.send(
          new PutItemCommand({ TableName: tableName, Item: plainItem(key, version, `evt_bench_${index}`) }),
        ),
      );
    const apply = (keys: readonly RoomNightKey[]) =>
      throughput(keys, IN_FLIGHT, async (key, index) => {
        const written = await store.writeNight(key, WRITE, version, `evt_bench_${index}`);
        if (written.length !== 3) throw new Error(`writeNight wrote ${written.join(', ')} of a new night`);
      });

    await put(freshNights(WARM_UP));
    await apply(freshNights(WARM_UP));
    const rounds: { put: number; apply: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which side goes first, so that neither always runs on a warmer or fuller emulator.
      if (round % 2 === 0) {
        const plain = await put(freshNights(NIGHTS));
        rounds.push({ put: plain, apply: await apply(freshNights(NIGHTS)) });
      } else {
        const applied = await apply(freshNights(NIGHTS));
        rounds.push({ put: await put(freshNights(NIGHTS)), apply: applied });
      }
    }
    const ratio = median(rounds.map((r) => r.apply / r.put));
    const meetsTarget = ratio >= APPLY_TARGET_RATIO;

    console.log(
      `\nApply writes (DynamoDB Local, ${NIGHTS} room nights × ${ROUNDS} rounds, ${IN_FLIGHT} in flight): ` +
        'room nights/s, and ratio to a plain PutItem',
    );
    console.table([
      {
        'PutItem nights/s': Math.round(median(rounds.map((r) => r.put))),
        'writeNight nights/s': Math.round(median(rounds.map((r) => r.apply))),
        ratio: Number(ratio.toFixed(2)),
        target: `≥ ${APPLY_TARGET_RATIO}`,
      },
    ]);
    return { ratio, meetsTarget };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await emulators.stop();
  }
}
