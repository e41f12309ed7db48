/**
 * What the server of the console's page tells the page about where it runs, at `/console/context.json`. The
 * local runtime answers `{}`; `paritysync console --stack` names the stack, its region and its CloudWatch
 * dashboard. Types only: the page imports it without anything of Node's.
 */
export interface ConsoleContext {
  /** The deployed stack the API calls go to; absent locally. */
  readonly stack?: string;
  readonly region?: string;
  /** The stack's CloudWatch dashboard in the AWS console, when the stack names one (its DashboardName output). */
  readonly dashboardUrl?: string;
}
