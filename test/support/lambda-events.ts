import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, SQSEvent, SQSMessageAttributes, SQSRecordAttributes } from 'aws-lambda';
import type { ProxyRoute } from './deployed-stack';

export interface ProxyRequest {
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  readonly sourceIp: string;
  readonly account: string;
}

/**
 * The event a REST API's Lambda proxy integration sends for a request on `route`: the body base64-encoded when
 * the API treats every content type as binary, and for an IAM-authorised route the caller's identity.
 */
export function apiGatewayProxyEvent(route: ProxyRoute, request: ProxyRequest): APIGatewayProxyEvent {
  const pathParameters = request.pathParameters ?? {};
  const path = route.resource.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParameters[name];
    if (value === undefined) throw new Error(`${route.resource} needs the path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers = { 'X-Forwarded-For': request.sourceIp, 'X-Forwarded-Proto': 'https', ...request.headers };
  const signed = route.authorizationType === 'AWS_IAM';
  const caller = `AROAEXAMPLE:operator`;
  return {
    resource: route.resource,
    path,
    httpMethod: route.httpMethod,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: request.query ? { ...request.query } : null,
    multiValueQueryStringParameters: request.query
      ? Object.fromEntries(Object.entries(request.query).map(([name, value]) => [name, [value]]))
      : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? { ...pathParameters } : null,
    stageVariables: null,
    body: body === undefined ? null : route.binaryBodies ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: body !== undefined && route.binaryBodies,
    requestContext: {
      accountId: request.account,
      apiId: 'local',
      authorizer: null,
      domainName: 'local.execute-api.localhost',
      httpMethod: route.httpMethod,
      identity: {
        accessKey: signed ? 'ASIAEXAMPLE' : null,
        accountId: signed ? request.account : null,
        apiKey: null,
        apiKeyId: null,
        caller: signed ? caller : null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: signed ? caller : null,
        userAgent: 'paritysync-deployed-bundles-test',
        userArn: signed ? `arn:aws:sts::${request.account}:assumed-role/operator/session` : null,
      },
      path: `/${route.stageName}${path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.resource,
      stage: route.stageName,
    },
  };
}

/** The batch an SQS event source mapping hands the function for messages received from `queueArn`. */
export function sqsEvent(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: (message.Attributes ?? {}) as unknown as SQSRecordAttributes,
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
            ...(value.BinaryValue !== undefined
              ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
              : {}),
            stringListValues: value.StringListValues ?? [],
            binaryListValues: (value.BinaryListValues ?? []).map((item) =>
              Buffer.from(item).toString('base64'),
            ),
            dataType: value.DataType ?? 'String',
          },
        ]),
      ) as SQSMessageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}
