/** A named field and what is wrong with it: how every validation failure is reported, whatever the layer. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** `sources[2].secrets[0]`: the path of a validation issue as a user would write it. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text || '(root)';
}
