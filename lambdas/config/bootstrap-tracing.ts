import { Tracer } from '@aws-lambda-powertools/tracer';
import type { AwsClientConfig, AwsClientRole } from '../shared/aws-clients';
import { bootstrapFunction, type FunctionBootstrap, type FunctionEnvironment } from './bootstrap';

/** A function's cold-start set-up with X-Ray tracing of its AWS SDK calls. */
export interface TracedFunctionBootstrap<E extends FunctionEnvironment> extends FunctionBootstrap<E> {
  readonly tracer: Tracer;
}

/**
 * `bootstrapFunction` plus a Powertools Tracer: every client from `fn.client` records its calls as X-Ray
 * subsegments. A module of its own so that a function that does not import it (the ingest edge, whose bundle
 * and cold start stay free of the X-Ray SDK; Lambda still traces its invocations) carries none of it. The
 * tracer turns itself off outside Lambda and where POWERTOOLS_TRACE_ENABLED is `false` (the stack's switch),
 * and then hands clients back untouched.
 */
export function bootstrapTracedFunction<E extends FunctionEnvironment>(
  role: AwsClientRole,
  readEnvironment: (env: NodeJS.ProcessEnv) => E,
): TracedFunctionBootstrap<E> {
  const fn = bootstrapFunction(role, readEnvironment);
  const tracer = new Tracer({ serviceName: fn.environment.serviceName });
  return {
    ...fn,
    tracer,
    client: <C>(Client: new (config: AwsClientConfig) => C): C =>
      tracer.captureAWSv3Client(fn.client(Client)),
  };
}
