/**
 * The channel part of a room-night key: the source id, or `<sourceId>:<channelId>` when a channel manager names
 * one of its channels. Webhooks, polls, parity and the configuration all build and read channels through these
 * functions, so that the values of one channel meet in one room-night item.
 *
 * Source ids cannot contain ':' (the configuration's source id rule), so the source is whatever comes before the
 * first ':', whichever channel of a channel manager a night belongs to; a channel id may itself contain ':'.
 */

const SEPARATOR = ':';

/** The channel a source's update is stored under; without a channel id, the source's own. */
export function roomNightChannel(sourceId: string, channelId?: string): string {
  return channelId ? `${sourceId}${SEPARATOR}${channelId}` : sourceId;
}

/** The source a channel belongs to. */
export function sourceOfChannel(channel: string): string {
  const at = channel.indexOf(SEPARATOR);
  return at === -1 ? channel : channel.slice(0, at);
}

/** The channel manager's channel id a channel names, if it names one. */
export function channelIdOf(channel: string): string | undefined {
  const at = channel.indexOf(SEPARATOR);
  return at === -1 ? undefined : channel.slice(at + 1);
}

/** Whether `channel` is the source's own or one of its channels. */
export function isChannelOf(channel: string, sourceId: string): boolean {
  return channel === sourceId || channel.startsWith(`${sourceId}${SEPARATOR}`);
}
