import type { AvailabilityValue } from './state';

/**
 * The part of a property's settings the inventory policy reads. The configuration's property settings satisfy it;
 * stated here so the rule needs nothing from the configuration module.
 */
export interface InventorySettings {
  readonly roomTypes: readonly { readonly roomTypeId: string; readonly physicalRooms: number }[];
  readonly allotments: readonly {
    readonly roomTypeId: string;
    readonly channel: string;
    readonly rooms: number;
  }[];
  readonly inventoryPolicy: { readonly mode: 'cap' | 'reject'; readonly buffer: number };
}

/** What the inventory policy makes of a requested availability: the figure to store, or why it is refused. */
export type AvailabilityDecision = { readonly allowed: AvailabilityValue } | { readonly refused: string };

/**
 * Inventory constraints, as channel managers apply them to overbooking: channels may sell at most
 * floor(physical × buffer) rooms, and at most the channel's contract allotment. `cap` sells the lower figure and records the adjustment; `reject` refuses.
 */
export function decideAvailability(
  requested: number,
  settings: InventorySettings | undefined,
  roomTypeId: string,
  channel: string,
  sourceId: string,
): AvailabilityDecision {
  if (!settings) return { allowed: { rooms: requested } };
  const limits: { rooms: number; why: string }[] = [];
  const physical = settings.roomTypes.find((r) => r.roomTypeId === roomTypeId)?.physicalRooms;
  if (physical !== undefined) {
    const buffer = settings.inventoryPolicy.buffer;
    limits.push({
      rooms: Math.floor(physical * buffer),
      why: buffer === 1 ? `physical rooms ${physical}` : `physical rooms ${physical} × buffer ${buffer}`,
    });
  }
  const allotment = settings.allotments.find(
    (a) => a.roomTypeId === roomTypeId && (a.channel === channel || a.channel === sourceId),
  );
  if (allotment)
    limits.push({ rooms: allotment.rooms, why: `allotment ${allotment.rooms} for ${allotment.channel}` });
  const binding = limits.reduce<{ rooms: number; why: string } | undefined>(
    (lowest, limit) => (lowest === undefined || limit.rooms < lowest.rooms ? limit : lowest),
    undefined,
  );
  if (!binding || requested <= binding.rooms) return { allowed: { rooms: requested } };
  if (settings.inventoryPolicy.mode === 'reject') {
    return {
      refused: `requested availability ${requested} for ${roomTypeId} exceeds ${binding.why} (at most ${binding.rooms})`,
    };
  }
  return {
    allowed: { rooms: binding.rooms, requested, cappedBy: `${binding.why}: at most ${binding.rooms}` },
  };
}
