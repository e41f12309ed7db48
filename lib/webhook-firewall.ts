import { Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface WebhookFirewallProps {
  /** The stage the web ACL protects. */
  readonly stage: apigateway.Stage;
  /** The configuration's `ingest.maxBodyBytes`: a declared body above it is refused at the edge. */
  readonly maxBodyBytes: number;
  /**
   * Requests one sender address may make in any 5 minutes before WAF answers 429 (AWS WAF's rate-based rule,
   * 10 at least).
   * @default DEFAULT_WAF_RATE_LIMIT
   */
  readonly rateLimitPer5Minutes?: number;
}

/** About 20 requests a second from one address, sustained: far above a provider's per-sender delivery rate. */
export const DEFAULT_WAF_RATE_LIMIT = 6000;

/**
 * A regional AWS WAF web ACL on the webhook stage: refuses addresses on AWS's IP reputation list, bounds the
 * request rate per sender address, and refuses a declared body larger than the edge accepts, all before API
 * Gateway invokes (and bills) the function. Unsigned floods to sources without an allowlist stop here.
 */
export class WebhookFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: WebhookFirewallProps) {
    super(scope, id);
    const rateLimit = props.rateLimitPer5Minutes ?? DEFAULT_WAF_RATE_LIMIT;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      // Sampled requests keep headers and addresses for three hours, never bodies.
      sampledRequestsEnabled: true,
      metricName,
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'ParitySync webhook edge: IP reputation, per-address rate, declared body size',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ParitySyncWebhooks'),
      rules: [
        {
          name: 'AwsIpReputation',
          priority: 0,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' },
          },
          visibilityConfig: visibility('AwsIpReputation'),
        },
        {
          name: 'RatePerSenderAddress',
          priority: 1,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: { aggregateKeyType: 'IP', limit: rateLimit, evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility('RatePerSenderAddress'),
        },
        {
          // WAF inspects at most the first 8-64 KB of a body, far below maxBodyBytes, so the declared length is
          // compared instead; the function still measures the body it receives.
          name: 'DeclaredBodyTooLarge',
          priority: 2,
          action: { block: { customResponse: { responseCode: 413 } } },
          statement: {
            regexMatchStatement: {
              fieldToMatch: { singleHeader: { Name: 'content-length' } },
              regexString: decimalAbove(props.maxBodyBytes),
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('DeclaredBodyTooLarge'),
        },
      ],
    });

    Validations.of(this.webAcl).acknowledge({
      id: 'NIST.800.53.R5-WAFv2LoggingEnabled',
      reason:
        'Per-rule CloudWatch metrics and sampled requests show what the web ACL blocks, and the stage access log ' +
        'records every request API Gateway answers; full WAF logs would duplicate them at per-request cost',
    });

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}

/**
 * A regular expression matching exactly the decimal numbers (leading zeros allowed) greater than `limit`: WAF
 * compares text, not numbers. Every longer number, then for each digit of `limit` the numbers that share its
 * digits up to there and are larger at that one.
 */
export function decimalAbove(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new Error(`decimalAbove: ${limit} is not a whole number`);
  const digits = String(limit);
  const alternatives = [`[1-9][0-9]{${digits.length},}`];
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    if (digit === 9) continue;
    const rest = digits.length - i - 1;
    const larger = digit === 8 ? '9' : `[${digit + 1}-9]`;
    alternatives.push(`${digits.slice(0, i)}${larger}${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  return `^0*(${alternatives.join('|')})$`;
}
