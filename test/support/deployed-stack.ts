import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AssetManifestArtifact, CloudAssembly } from 'aws-cdk-lib/cx-api';

const projectRoot = join(__dirname, '..', '..');
const run = promisify(execFile);

/** A CloudFormation template as `cdk synth` writes it. */
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

/** One AWS::Lambda::Function of the template, with the asset directory its code is zipped from. */
export interface DeployedFunction {
  readonly logicalId: string;
  /** The asset directory, exactly what is zipped and uploaded as the function's code. */
  readonly codeDirectory: string;
  /** `<module>.<export>`, as Lambda resolves it against the code directory. */
  readonly handler: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Environment.Variables as the template has them: literals and intrinsic functions. */
  readonly variables: Readonly<Record<string, unknown>>;
}

export interface DeployedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
  readonly functions: readonly DeployedFunction[];
}

/**
 * Runs the CDK app (bin/app.ts) the way `cdk synth` does: the cdk.json context plus the given keys through
 * CDK_CONTEXT_JSON and the output directory through CDK_OUTDIR, with asset bundling on. The CLI itself is not
 * used: it would look for AWS credentials to describe the default environment.
 */
export async function synthesize(options: {
  readonly outdir: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
}): Promise<DeployedStack> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  try {
    await run(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: projectRoot,
      env: {
        ...process.env,
        CDK_OUTDIR: options.outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...options.context }),
      },
      timeout: options.timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`Synthesising bin/app.ts failed:\n${stderr ?? ''}${stdout ?? ''}`, { cause: error });
  }
  return readDeployedStack(options.outdir);
}

/** The one stack of a cloud assembly, its functions and the asset directories their code comes from. */
export function readDeployedStack(outdir: string): DeployedStack {
  const assembly = new CloudAssembly(outdir);
  const [stack, ...others] = assembly.stacks;
  if (!stack || others.length > 0) {
    throw new Error(`Expected one stack in ${outdir}, found ${assembly.stacks.map((s) => s.stackName)}`);
  }
  const template = stack.template as CfnTemplate;
  const assetDirectories = new Map<string, string>();
  for (const manifest of stack.dependencies.filter(AssetManifestArtifact.isAssetManifestArtifact)) {
    for (const [id, asset] of Object.entries(manifest.contents.files ?? {})) {
      const { path, packaging } = asset.source;
      if (path === undefined) continue;
      const directory = resolve(dirname(manifest.file), path);
      for (const destination of Object.values(asset.destinations)) {
        assetDirectories.set(destination.objectKey, packaging === 'zip' ? directory : `${id} (a plain file)`);
      }
    }
  }

  const functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]): DeployedFunction => {
      const props = resource.Properties ?? {};
      const code = props.Code as { S3Key?: unknown; ZipFile?: unknown } | undefined;
      if (typeof code?.S3Key !== 'string') {
        throw new Error(`${logicalId} has no S3 asset as its code: ${JSON.stringify(code)}`);
      }
      const codeDirectory = assetDirectories.get(code.S3Key);
      if (codeDirectory === undefined || !existsSync(codeDirectory)) {
        throw new Error(
          `${logicalId}'s code ${code.S3Key} is not a zipped directory asset of the assembly (${codeDirectory})`,
        );
      }
      const environment = props.Environment as { Variables?: Record<string, unknown> } | undefined;
      return {
        logicalId,
        codeDirectory,
        handler: stringProperty(logicalId, props, 'Handler'),
        runtime: stringProperty(logicalId, props, 'Runtime'),
        // Lambda's defaults when the template leaves them out.
        memorySize: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
        timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
        variables: environment?.Variables ?? {},
      };
    });
  return { stackName: stack.stackName, template, functions };
}

function stringProperty(logicalId: string, props: Readonly<Record<string, unknown>>, name: string): string {
  const value = props[name];
  if (typeof value !== 'string')
    throw new Error(`${logicalId}.${name} is not a string: ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// What invokes a function, read from the template.

/** A REST API method whose Lambda proxy integration invokes a function. */
export interface ProxyRoute {
  readonly httpMethod: string;
  /** The resource path as API Gateway reports it in `event.resource`, e.g. `/webhooks/{sourceId}`. */
  readonly resource: string;
  readonly authorizationType: string;
  readonly stageName: string;
  /** The API delivers every body base64-encoded (binaryMediaTypes covers all content types). */
  readonly binaryBodies: boolean;
}

export function proxyRoutes(template: CfnTemplate, functionId: string): ProxyRoute[] {
  const routes: ProxyRoute[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const props = resource.Properties ?? {};
    const integration = props.Integration as { Type?: string; Uri?: unknown } | undefined;
    if (integration?.Type !== 'AWS_PROXY' || !referencesArnOf(integration.Uri, functionId)) continue;
    const restApiId = refTarget(props.RestApiId);
    const api = restApiId === undefined ? undefined : template.Resources[restApiId];
    const binaryMediaTypes = (api?.Properties?.BinaryMediaTypes ?? []) as string[];
    routes.push({
      httpMethod: String(props.HttpMethod),
      resource: resourcePath(template, props.ResourceId),
      authorizationType: String(props.AuthorizationType ?? 'NONE'),
      stageName: stageNameOf(template, restApiId),
      binaryBodies: binaryMediaTypes.includes('*/*'),
    });
  }
  return routes;
}

/** The queue an SQS event source mapping feeds the function from, and how. */
export interface QueueTrigger {
  readonly queueId: string;
  readonly batchSize: number;
  readonly reportsBatchItemFailures: boolean;
}

/** The event source mappings that invoke a function, with the resource each reads from. */
function eventSources(template: CfnTemplate, functionId: string) {
  return Object.values(template.Resources)
    .filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::EventSourceMapping' &&
        refTarget(resource.Properties?.FunctionName) === functionId,
    )
    .map((resource) => {
      const props = resource.Properties ?? {};
      const source = props.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const [sourceId, attribute] = source?.['Fn::GetAtt'] ?? [];
      if (sourceId === undefined || template.Resources[sourceId] === undefined) {
        throw new Error(`An event source mapping of ${functionId} reads from ${JSON.stringify(source)}`);
      }
      return { props, sourceId, attribute, type: template.Resources[sourceId]?.Type };
    });
}

/** The DynamoDB tables whose streams invoke the function. */
export function streamTriggers(template: CfnTemplate, functionId: string): string[] {
  return eventSources(template, functionId)
    .filter(({ type, attribute }) => type === 'AWS::DynamoDB::GlobalTable' && attribute === 'StreamArn')
    .map(({ sourceId }) => sourceId);
}

export function queueTriggers(template: CfnTemplate, functionId: string): QueueTrigger[] {
  return eventSources(template, functionId)
    .filter(({ type }) => type === 'AWS::SQS::Queue')
    .map(({ props, sourceId: queueId }) => {
      const responseTypes = (props.FunctionResponseTypes ?? []) as string[];
      return {
        queueId,
        // Lambda's default for an SQS source.
        batchSize: typeof props.BatchSize === 'number' ? props.BatchSize : 10,
        reportsBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      };
    });
}

/** A schedule that invokes the function, and the payload EventBridge hands it. */
export interface ScheduleTrigger {
  readonly scheduleExpression: string;
  readonly payload: unknown;
}

/**
 * EventBridge's input transformer, for the paths a scheduled event has: each `<name>` of the template becomes the
 * JSON value at its `$.field` path (strings inserted quoted, as EventBridge does in a JSON template).
 */
function transformInput(ruleId: string, transformer: unknown, event: Record<string, unknown>): unknown {
  const { InputPathsMap: paths = {}, InputTemplate: template } = transformer as {
    InputPathsMap?: Record<string, string>;
    InputTemplate?: string;
  };
  if (typeof template !== 'string') throw new Error(`${ruleId} has an input transformer without a template`);
  const rendered = template.replace(/<([A-Za-z0-9_.-]+)>/g, (_, name: string) => {
    const path = paths[name];
    const match = path === undefined ? null : /^\$\.([A-Za-z0-9_-]+)$/.exec(path);
    if (!match) throw new Error(`${ruleId}: input path for <${name}> (${path}) is not a top-level field`);
    return JSON.stringify(event[match[1] as string]);
  });
  return JSON.parse(rendered);
}

export function scheduleTriggers(
  template: CfnTemplate,
  functionId: string,
  at: { readonly region: string; readonly account: string; readonly now: Date },
): ScheduleTrigger[] {
  const triggers: ScheduleTrigger[] = [];
  for (const [ruleId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = resource.Properties ?? {};
    if (typeof props.ScheduleExpression !== 'string') continue;
    for (const target of (props.Targets ?? []) as Array<Record<string, unknown>>) {
      if (!referencesArnOf(target.Arn, functionId)) continue;
      if (target.InputPath !== undefined) {
        throw new Error(
          `${ruleId} selects its input with InputPath; only Input and InputTransformer are emulated`,
        );
      }
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: at.account,
        time: at.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: at.region,
        resources: [`arn:aws:events:${at.region}:${at.account}:rule/${ruleId}`],
        detail: {},
      };
      triggers.push({
        scheduleExpression: props.ScheduleExpression,
        // A constant Input replaces the event entirely, a transformer fills its template from the event; with
        // neither the target receives the scheduled event.
        payload:
          typeof target.Input === 'string'
            ? JSON.parse(target.Input)
            : target.InputTransformer !== undefined
              ? transformInput(ruleId, target.InputTransformer, event)
              : event,
      });
    }
  }
  return triggers;
}

function referencesArnOf(value: unknown, logicalId: string): boolean {
  if (Array.isArray(value)) return value.some((item) => referencesArnOf(item, logicalId));
  if (value === null || typeof value !== 'object') return false;
  const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId && getAtt[1] === 'Arn') return true;
  return Object.values(value).some((item) => referencesArnOf(item, logicalId));
}

function refTarget(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** `/a/{b}` from the chain of AWS::ApiGateway::Resource parents up to the API's root resource. */
function resourcePath(template: CfnTemplate, resourceId: unknown): string {
  const parts: string[] = [];
  let current = resourceId;
  for (;;) {
    const id = refTarget(current);
    if (id === undefined) break;
    const resource = template.Resources[id];
    if (resource?.Type !== 'AWS::ApiGateway::Resource') throw new Error(`${id} is not an API resource`);
    parts.unshift(String(resource.Properties?.PathPart));
    current = resource.Properties?.ParentId;
  }
  const root = (current as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (root?.[1] !== 'RootResourceId')
    throw new Error(`Unexpected API resource parent ${JSON.stringify(current)}`);
  return `/${parts.join('/')}`;
}

function stageNameOf(template: CfnTemplate, restApiId: string | undefined): string {
  const stage = Object.values(template.Resources).find(
    (resource) =>
      resource.Type === 'AWS::ApiGateway::Stage' && refTarget(resource.Properties?.RestApiId) === restApiId,
  );
  const name = stage?.Properties?.StageName;
  if (typeof name !== 'string') throw new Error(`No stage found for the REST API ${restApiId}`);
  return name;
}
