// Plays the part of Lambda's Node.js runtime for one function, in a process of its own whose environment is the
// function's: resolves the handler setting against the code directory as Lambda does, imports the module (its
// start-up code runs here, once, as at a cold start), then runs invocations sent over IPC one at a time.
// Plain JavaScript on purpose: no TypeScript loader may stand between Node and the bundle under test.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [taskRoot = '', handlerSetting = ''] = process.argv.slice(2);

// The test process is gone: so is this container.
process.on('disconnect', () => process.exit(0));

/** @param {unknown} error */
function errorFields(error) {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message, stack: error.stack }
    : { errorType: 'Error', errorMessage: String(error) };
}

/** @param {Record<string, unknown>} message @param {number} [exitCode] */
function send(message, exitCode) {
  process.send?.(message, () => {
    if (exitCode !== undefined) process.exit(exitCode);
  });
}

/** @param {string} name @param {string} message */
function runtimeError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

async function loadHandler() {
  const dot = handlerSetting.lastIndexOf('.');
  if (dot <= 0) throw runtimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerSetting}`);
  const modulePath = handlerSetting.slice(0, dot);
  const exportName = handlerSetting.slice(dot + 1);
  // The extensions Lambda's Node.js runtime tries, in its order.
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(taskRoot, modulePath + ext)).find(existsSync);
  if (file === undefined) {
    throw runtimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}' in ${taskRoot}`,
    );
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${handlerSetting} is undefined or not exported`);
  }
  return handler;
}

for (const event of /** @type {const} */ (['unhandledRejection', 'uncaughtException'])) {
  process.on(event, (error) => send({ type: 'crash', ...errorFields(error) }, 129));
}

try {
  const handler = await loadHandler();
  process.on('message', async (/** @type {any} */ message) => {
    if (message?.type !== 'invoke') return;
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: message.invokedFunctionArn,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: message.requestId,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    };
    try {
      const result = await handler(message.event, context);
      // Lambda answers `null` for a handler that returns nothing.
      send({ type: 'result', id: message.id, result: result === undefined ? null : result });
    } catch (error) {
      send({ type: 'error', id: message.id, ...errorFields(error) });
    }
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'init-error', ...errorFields(error) }, 1);
}
