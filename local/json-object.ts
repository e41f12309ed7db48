/**
 * The fields of the JSON object `text` holds, or none when it is not JSON or not an object: for reading what an
 * answer says about itself (a status, an error type) when it may be an HTML error page or a bare string.
 */
export function fieldsOf(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
