import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs bin/app.ts the way `cdk synth` does, with context passed through CDK_CONTEXT_JSON. */
const projectRoot = join(__dirname, '..', '..');
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'paritysync-app-'));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function runApp(context: Record<string, unknown>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'bin', 'app.ts')], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: join(workDir, 'cdk.out') },
  });
  return { status: result.status, stderr: result.stderr };
}

describe('bin/app.ts', () => {
  it('refuses a configuration with an inline secret, naming the field, and exits 1', () => {
    const configPath = join(workDir, 'inline-secret.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        version: 1,
        sources: [
          { id: 'ota', kind: 'ota', secrets: [{ value: 'do-not-print-me-Q2hhbmdlIHRoaXMgc2VjcmV0' }] },
        ],
      }),
    );
    const { status, stderr } = runApp({ 'paritysync:config': configPath });
    expect(status).toBe(1);
    expect(stderr).toContain('sources[0].secrets[0]');
    expect(stderr).toContain('cannot be deployed to AWS');
    expect(stderr).not.toContain('do-not-print-me');
    // The message alone, not a stack trace.
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reports an unreadable configuration file and exits 1', () => {
    const { status, stderr } = runApp({ 'paritysync:config': join(workDir, 'missing.json') });
    expect(status).toBe(1);
    expect(stderr).toContain('Cannot read ParitySync configuration');
    expect(stderr).toContain('missing.json');
  });

  it('refuses alarm addresses given as something other than text, naming the key', () => {
    const { status, stderr } = runApp({ 'paritysync:alarmEmails': 42 });
    expect(status).toBe(1);
    expect(stderr).toContain('paritysync:alarmEmails must be a comma-separated string');
  });

  it('refuses a reconciliation schedule switch that is neither true nor false, naming the key', () => {
    const { status, stderr } = runApp({ 'paritysync:reconciliationSchedule': 'sometimes' });
    expect(status).toBe(1);
    expect(stderr).toContain('paritysync:reconciliationSchedule must be true or false');
  });
});
