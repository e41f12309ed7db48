import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A refused condition; carries the item as it was when ReturnValuesOnConditionCheckFailure asked for it. */
export interface ConditionalCheckFailure extends Error {
  readonly Item?: Record<string, AttributeValue>;
}

// By name rather than instanceof, so that a second copy of the SDK in a bundle cannot defeat the check.
export function isConditionalCheckFailure(error: unknown): error is ConditionalCheckFailure {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
