import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A refused condition; carries the item as it was when ReturnValuesOnConditionCheckFailure asked for it. */
export interface ConditionalCheckFailure extends Error {
  readonly Item?: Record<string, AttributeValue>;
}

// By name rather than instanceof, so that a second copy of the SDK in a bundle cannot defeat the check.
export function isConditionalCheckFailure(error: unknown): error is ConditionalCheckFailure {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * A string attribute a table's item must carry. A missing one means the item was not written by this code (or
 * by an older shape of it), so the error names the table's kind of item, its keys and the attribute.
 */
export function requiredString(item: Record<string, AttributeValue>, name: string, itemKind: string): string {
  const value = item[name]?.S;
  if (value === undefined) {
    throw new Error(
      `${itemKind} item ${item.pk?.S ?? '(no pk)'} ${item.sk?.S ?? '(no sk)'} has no string "${name}"`,
    );
  }
  return value;
}
