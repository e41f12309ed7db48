import {
  AuthenticationError,
  ConflictError,
  type FieldProblem,
  InvalidRequestError,
  NotFoundError,
  ParitySyncError,
  UnavailableError,
} from '../../lambdas/shared/errors';

/**
 * What the operations CLI reports when it cannot do what it was asked. Each message names what was tried and
 * what to change; `runParitySync` prints the message (and the fields) and answers exit code 1.
 */

/** The API answered with its own error body `{ error, message, fields }`. */
export class ApiAnswerError extends ParitySyncError {
  readonly status: number;

  constructor(status: number, code: string, message: string, fields?: readonly FieldProblem[]) {
    super(code, `${status} ${code}: ${message}`, fields === undefined ? {} : { fields });
    this.status = status;
  }
}

/** Nothing accepts connections at the local runtime's address. */
export class NothingListeningError extends UnavailableError {
  constructor(url: string) {
    super(
      'nothing_listening',
      `Nothing is listening at ${url} (connection refused). Start the local runtime with \`npm start\`, ` +
        'pass --url if it listens elsewhere, or --stack <name> to operate a deployed stack.',
    );
  }
}

/** The network failed before any answer: DNS, reset connection, TLS. */
export class UnreachableError extends UnavailableError {
  constructor(url: string, reason: string) {
    super('unreachable', `Could not reach ${url}: ${reason}. Check the address and the network, then retry.`);
  }
}

/** No answer within the time allowed. */
export class TimedOutError extends UnavailableError {
  constructor(what: string, seconds: number, hint = 'Retry, or allow longer with --timeout <seconds>.') {
    super('timed_out', `${what} gave no answer within ${seconds} s. ${hint}`);
  }
}

/** The answer is neither a success nor an error in the API's shape (a proxy's HTML page, say). */
export class UnexpectedAnswerError extends UnavailableError {
  constructor(what: string, status: number, excerpt: string) {
    super(
      'unexpected_answer',
      `${what} answered ${status} with something that is not ParitySync's JSON: ${JSON.stringify(excerpt)}. ` +
        'Check that the URL is the read API of a ParitySync runtime or stack.',
    );
  }
}

/** The standard credential chain found nothing to sign with. */
export class NoCredentialsError extends AuthenticationError {
  constructor(reason: string, profile: string | undefined) {
    const profileHint =
      profile === undefined
        ? 'pass --profile <name> (or set AWS_PROFILE) for a profile of ~/.aws/config'
        : `profile ${JSON.stringify(profile)} is the one asked for: check it exists in ~/.aws/config`;
    super(
      'no_credentials',
      `No AWS credentials (${reason}). The CLI looks in the standard chain: AWS_ACCESS_KEY_ID and ` +
        'AWS_SECRET_ACCESS_KEY in the environment, then the shared config and credentials files (SSO, ' +
        `credential_process, assumed roles), then web identity, container and instance roles. Fix: ${profileHint}; ` +
        `for an SSO profile run \`aws sso login${profile === undefined ? '' : ` --profile ${profile}`}\` first.`,
    );
  }
}

/** AWS did not accept the credentials themselves: expired session, unknown key, signature mismatch. */
export class CredentialsRefusedError extends AuthenticationError {
  constructor(service: string, reason: string, profile: string | undefined) {
    super(
      'credentials_refused',
      `${service} refused the credentials: ${reason.replace(/\.$/, '')}. An expired SSO session needs ` +
        `\`aws sso login${profile === undefined ? '' : ` --profile ${profile}`}\`; otherwise check the access ` +
        'key and secret in use (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID) and that the clock is right.',
    );
  }
}

/** The caller is authenticated but IAM does not allow the action. */
export class AccessDeniedError extends ParitySyncError {
  readonly action: string;
  readonly resource: string;

  constructor(action: string, resource: string, answer: string) {
    super(
      'access_denied',
      `Access denied: ${answer}\nGrant the caller's IAM identity ${action} on ${resource} ` +
        '(see "Operations CLI" in the README for every permission the CLI uses).',
    );
    this.action = action;
    this.resource = resource;
  }
}

export class StackNotFoundError extends NotFoundError {
  constructor(stack: string, region: string) {
    super(
      'stack_not_found',
      `No CloudFormation stack ${JSON.stringify(stack)} in ${region}. Check the name (\`cdk list\` shows it) ` +
        "and the region (--region, AWS_REGION or the profile's region), and the account of the credentials.",
    );
  }
}

export class StackOutputMissingError extends NotFoundError {
  constructor(stack: string, region: string, output: string, present: readonly string[]) {
    super(
      'stack_output_missing',
      `Stack ${JSON.stringify(stack)} in ${region} has no output ${output} (it has: ${present.join(', ') || 'none'}). ` +
        'Is it a ParitySync stack? Deploy the current version, which adds the output.',
    );
  }
}

export class NoRegionError extends InvalidRequestError {
  constructor() {
    super(
      'no_region',
      'No AWS region: pass --region <region>, set AWS_REGION, or give the profile a region in ~/.aws/config.',
    );
  }
}

/** The options name no target, or two. */
export class TargetOptionsError extends InvalidRequestError {}

/** Reserved concurrency 1 throttled the invocation: a run is already going. */
export class RunInProgressError extends ConflictError {
  constructor(functionName: string) {
    super(
      'run_in_progress',
      `A reconciliation run is already in progress on ${functionName} (scheduled or requested); wait for it ` +
        'to finish and ask again.',
    );
  }
}

/** The reconcile function itself failed: its error, and the end of its log when Lambda returned it. */
export class ReconcileFunctionError extends ParitySyncError {
  constructor(functionName: string, errorType: string, errorMessage: string, logTail: string | undefined) {
    super(
      'reconcile_failed',
      `The reconcile function ${functionName} failed: ${errorType}: ${errorMessage}` +
        (logTail ? `\nEnd of its log:\n${logTail.trimEnd()}` : '') +
        '\nThe next run resumes from the last checkpoint; fix the cause (see "Reconciliation" in the README).',
    );
  }
}
