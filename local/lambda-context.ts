import type { Context } from 'aws-lambda';

/**
 * The context Lambda hands a handler, for a function run locally as `functionName`: the remaining time counts
 * down to `deadline` (epoch milliseconds), and the callback-style completions, which no handler here uses, throw.
 */
export function localLambdaContext(functionName: string, awsRequestId: string, deadline: number): Context {
  const unsupported = () => {
    throw new Error('The callback-style done/fail/succeed are not supported; return a promise instead.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
