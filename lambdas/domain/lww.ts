import {
  compareVersions,
  FIELD_GROUPS,
  type FieldGroup,
  type NightWrite,
  type RoomNightState,
  type Version,
} from './state';

/**
 * The reference semantics of applying a write to a room night: each field group present in the write replaces
 * the stored group only if the write's version is newer. The DynamoDB store enforces exactly this with
 * conditional writes; property tests check both against each other and against in-order application.
 */
export function mergeNight(
  state: RoomNightState,
  write: NightWrite,
  version: Version,
  eventId: string,
): { readonly state: RoomNightState; readonly written: readonly FieldGroup[] } {
  let next: RoomNightState = state;
  const written: FieldGroup[] = [];
  for (const group of FIELD_GROUPS) {
    const value = write[group];
    if (value === undefined) continue;
    const current = state[group];
    if (current && compareVersions(current.version, version) >= 0) continue;
    next = { ...next, [group]: { value, version, eventId } };
    written.push(group);
  }
  return { state: next, written };
}
