/**
 * A JSON tree a hostile sender can write but JSON.stringify cannot: numbers as literal text (`1e400`,
 * `129.99000000000001`, `-0`), containers nested thousands deep, and a key repeated within one object. Bodies are
 * serialised here, so the bytes signed are exactly the bytes meant.
 */

/** JSON text inserted verbatim where a value goes. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type FuzzJson = null | boolean | number | string | RawJson | FuzzJson[] | { [key: string]: FuzzJson };

export type Path = readonly (string | number)[];

/** Marks an object whose first key is written twice (JSON.parse keeps the last; the edge must refuse it). */
const REPEATED_FIRST_KEY = Symbol('repeatedFirstKey');

type Container = FuzzJson[] | { [key: string]: FuzzJson };

function isContainer(value: FuzzJson | undefined): value is Container {
  return typeof value === 'object' && value !== null && !(value instanceof RawJson);
}

function isObject(value: FuzzJson | undefined): value is { [key: string]: FuzzJson } {
  return isContainer(value) && !Array.isArray(value);
}

/** A deep copy that keeps RawJson leaves and own `__proto__` keys as they are. */
export function cloneJson(value: FuzzJson): FuzzJson {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const copy: { [key: string]: FuzzJson } = {};
  for (const key of Object.keys(value)) setOwn(copy, key, cloneJson(value[key] as FuzzJson));
  if (REPEATED_FIRST_KEY in value) markRepeatedFirstKey(copy);
  return copy;
}

/** Sets an own property, even `__proto__`, which plain assignment would turn into a prototype change. */
function setOwn(target: { [key: string]: FuzzJson }, key: string, value: FuzzJson): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function markRepeatedFirstKey(target: { [key: string]: FuzzJson }): void {
  Object.defineProperty(target, REPEATED_FIRST_KEY, { value: true, enumerable: false });
}

/** Serialises `value`; RawJson is written as is. The tree itself is shallow: deep nesting travels as RawJson. */
export function serialise(value: FuzzJson): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(serialise).join(',')}]`;
  if (isObject(value)) {
    const members = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}:${serialise(value[key] as FuzzJson)}`,
    );
    if (REPEATED_FIRST_KEY in value && members.length > 0) members.unshift(members[0] as string);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Paths to every node, the root (the empty path) first. RawJson is a leaf. */
export function pathsOf(value: FuzzJson, path: Path = [], into: Path[] = []): Path[] {
  into.push(path);
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      pathsOf(item, [...path, index], into);
    });
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) pathsOf(value[key] as FuzzJson, [...path, key], into);
  }
  return into;
}

export function valueAt(root: FuzzJson, path: Path): FuzzJson | undefined {
  let node: FuzzJson | undefined = root;
  for (const step of path) {
    if (!isContainer(node)) return undefined;
    node = Array.isArray(node)
      ? node[step as number]
      : Object.hasOwn(node, step)
        ? node[String(step)]
        : undefined;
  }
  return node;
}

/** Paths of the objects in the tree (where a key can be added). */
export function objectPaths(root: FuzzJson): Path[] {
  return pathsOf(root).filter((path) => isObject(valueAt(root, path)));
}

/** `root` with the node at `path` replaced; the root itself when `path` is empty. */
export function setAt(root: FuzzJson, path: Path, value: FuzzJson): FuzzJson {
  if (path.length === 0) return value;
  const parent = valueAt(root, path.slice(0, -1));
  const step = path[path.length - 1] as string | number;
  if (Array.isArray(parent)) parent[Number(step)] = value;
  else if (isObject(parent)) setOwn(parent, String(step), value);
  return root;
}

/** `root` without the node at `path`; a root cannot be removed. */
export function removeAt(root: FuzzJson, path: Path): FuzzJson {
  const parent = valueAt(root, path.slice(0, -1));
  const step = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(step), 1);
  else if (isObject(parent)) delete parent[String(step)];
  return root;
}

/** Writes the first key of the object at `path` twice when serialised. */
export function repeatFirstKeyAt(root: FuzzJson, path: Path): FuzzJson {
  const target = valueAt(root, path);
  if (isObject(target) && Object.keys(target).length > 0) markRepeatedFirstKey(target);
  return root;
}

/** `$.data.dateFrom`, `$.date_range[0]`: a path as the reports print it. */
export function formatJsonPath(path: Path): string {
  return `$${path.map((step) => (typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`)).join('')}`;
}
