import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { loadConfigFile } from '../lambdas/config/load';
import { ConfigurationError } from '../lambdas/shared/errors';
import { appSettings } from '../lib/app-context';
import { assertDeployableConfig } from '../lib/deploy-config';
import { ParitySyncStack } from '../lib/paritysync-stack';

/** The CDK app: context keys are listed with `appSettings` (lib/app-context.ts). */
async function main(): Promise<void> {
  const app = new App();
  // Synth fails on any finding not acknowledged beside its resource (README, Security notes).
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new ServerlessChecks(app),
    new NIST80053R5Checks(app),
  );
  const settings = appSettings(app);
  const config = await loadConfigFile(settings.configPath);
  assertDeployableConfig(config);
  new ParitySyncStack(app, settings.stackName, { config, ...settings.props });
  app.synth();
}

main().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
