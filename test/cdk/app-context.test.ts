import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { appSettings } from '../../lib/app-context';

const settingsFor = (context: Record<string, unknown>) => appSettings(new App({ context }));

describe('the app context', () => {
  it('defaults to the example configuration, stack ParitySync, retained data and no alarm topic', () => {
    const { configPath, stackName, props } = settingsFor({});
    expect(configPath).toBe('config/aws.example.json');
    expect(stackName).toBe('ParitySync');
    expect(props.retain).toBe(true);
    expect(props.reconciliationScheduleEnabled).toBe(true);
    expect(props.alarmEmails).toBeUndefined();
    expect(props.alarmTopicArn).toBeUndefined();
  });

  it('reads alarm addresses given with -c as one comma-separated string', () => {
    expect(
      settingsFor({ 'paritysync:alarmEmails': 'ops@example.com, revenue@example.com,' }).props.alarmEmails,
    ).toEqual(['ops@example.com', 'revenue@example.com']);
  });

  it('reads alarm addresses given in cdk.json as a list', () => {
    expect(settingsFor({ 'paritysync:alarmEmails': ['ops@example.com'] }).props.alarmEmails).toEqual([
      'ops@example.com',
    ]);
  });

  it('reads an existing alarm topic', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    expect(settingsFor({ 'paritysync:alarmTopicArn': arn }).props.alarmTopicArn).toBe(arn);
  });

  it('reads -c switches given as the strings true and false', () => {
    const { props } = settingsFor({
      'paritysync:retainData': 'false',
      'paritysync:reconciliationSchedule': 'false',
    });
    expect(props.retain).toBe(false);
    expect(props.reconciliationScheduleEnabled).toBe(false);
  });

  it('reads how many delivery-log indexes to create, as -c gives it or as cdk.json does', () => {
    expect(settingsFor({}).props.ledgerLogIndexes).toBeUndefined();
    expect(settingsFor({ 'paritysync:ledgerIndexes': '2' }).props.ledgerLogIndexes).toBe(2);
    expect(settingsFor({ 'paritysync:ledgerIndexes': 3 }).props.ledgerLogIndexes).toBe(3);
    expect(() => settingsFor({ 'paritysync:ledgerIndexes': 'two' })).toThrow(
      /paritysync:ledgerIndexes must be a whole number; received "two"/,
    );
  });

  it('refuses alarm addresses given as something other than text, naming the key', () => {
    expect(() => settingsFor({ 'paritysync:alarmEmails': 42 })).toThrow(ConfigurationError);
    expect(() => settingsFor({ 'paritysync:alarmEmails': [1] })).toThrow(
      /paritysync:alarmEmails must be a comma-separated string or a list of strings; received \[1\]/,
    );
  });

  it('turns tracing, the web ACL and the backup plan on and off, tracing and the web ACL on by default', () => {
    const defaults = settingsFor({}).props;
    expect([defaults.tracing, defaults.webApplicationFirewall, defaults.backup]).toEqual([true, true, false]);
    const flipped = settingsFor({
      'paritysync:tracing': 'false',
      'paritysync:waf': 'false',
      'paritysync:backup': 'true',
    }).props;
    expect([flipped.tracing, flipped.webApplicationFirewall, flipped.backup]).toEqual([false, false, true]);
  });

  it("reads the web ACL's rate limit and the ingest function's reserved concurrency, or none", () => {
    expect(settingsFor({}).props.ingestReservedConcurrency).toBeUndefined();
    const tuned = settingsFor({
      'paritysync:wafRateLimit': '1200',
      'paritysync:ingestReservedConcurrency': 20,
    }).props;
    expect(tuned.wafRateLimitPer5Minutes).toBe(1200);
    expect(tuned.ingestReservedConcurrency).toBe(20);
    expect(
      settingsFor({ 'paritysync:ingestReservedConcurrency': 'none' }).props.ingestReservedConcurrency,
    ).toBe('none');
    expect(() => settingsFor({ 'paritysync:ingestReservedConcurrency': 'lots' })).toThrow(
      /paritysync:ingestReservedConcurrency must be a whole number; received "lots"/,
    );
  });
});
