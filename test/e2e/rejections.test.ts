import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints } from '../support/aws';
import { eventually } from '../support/eventually';

/**
 * The local stack over HTTP: a forged delivery refused by the real edge shows up in `GET /rejections`, read back
 * by the real read function from the table the runtime provisioned from the topology.
 */
let stack: LocalStack;
let config: ParitySyncConfig;

beforeAll(async () => {
  config = await loadConfigFile('config/local.example.json');
  const prefix = `e2e${randomBytes(4).toString('hex')}`;
  stack = await startLocalStack({ config, emulators: emulatorEndpoints(), prefix, consumer: false });
});

afterAll(async () => {
  await stack?.stop();
});

interface ListedRejection {
  readonly at: string;
  readonly sourceId: string;
  readonly senderAddress?: string;
  readonly status: number;
  readonly reason: string;
  readonly headerNames: string[];
  readonly bodyBytes: number;
  readonly bodySha256: string;
}

async function rejections(query: Record<string, string>) {
  const response = await fetch(`${stack.url}/rejections?${new URLSearchParams(query)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: ListedRejection[]; unrecorded: { total: number } };
}

describe('the rejection log, end to end', () => {
  it('shows a bad signature in GET /rejections, by source and for all sources, without what it carried', async () => {
    const source = config.sources.find((s) => s.kind === 'ota');
    if (!source) throw new Error('no ota source in the example configuration');
    const body = Buffer.from(
      JSON.stringify({ event_id: `forged-${randomUUID()}`, guest: 'Grace Hopper-e2e' }),
    );
    const signature = randomBytes(32).toString('hex');
    const sentAt = Date.now();
    const answer = await fetch(`${stack.url}/webhooks/${source.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ota-signature': signature, 'x-probe': 'probe-value' },
      body,
    });
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: string }).error).toBe('invalid_signature');

    const sha = createHash('sha256').update(body).digest('hex');
    const window = {
      from: new Date(sentAt - 60_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
    };
    const bySource = await eventually('the refused delivery in GET /rejections?source=…', async () => {
      const listed = await rejections({ ...window, source: source.id });
      return listed.items.find((r) => r.bodySha256 === sha);
    });
    expect(bySource).toMatchObject({
      sourceId: source.id,
      senderAddress: '127.0.0.1',
      status: 401,
      reason: 'invalid_signature',
      bodyBytes: body.length,
    });
    expect(bySource.headerNames).toEqual(
      expect.arrayContaining(['content-type', 'x-ota-signature', 'x-probe']),
    );
    expect(JSON.stringify(bySource)).not.toMatch(new RegExp(`${signature}|probe-value|Grace Hopper`));

    const everySource = await rejections({ ...window, reason: 'invalid_signature' });
    expect(everySource.items.map((r) => r.bodySha256)).toContain(sha);
    expect(everySource.unrecorded.total).toBe(0);
  });
});
