import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelIdOf, isChannelOf, roomNightChannel, sourceOfChannel } from '../../lambdas/domain/channel';

// Source ids as the configuration allows them: no ':'.
const sourceId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);

describe('room-night channels', () => {
  it("is the source's own channel without a channel id, and names the channel manager's channel with one", () => {
    expect(roomNightChannel('cm-1')).toBe('cm-1');
    expect(roomNightChannel('cm-1', '')).toBe('cm-1');
    expect(roomNightChannel('cm-1', 'booking')).toBe('cm-1:booking');
  });

  it('reads the source and channel id back from any channel it builds, even a channel id holding ":"', () => {
    fc.assert(
      fc.property(
        sourceId,
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        (source, channelId) => {
          const channel = roomNightChannel(source, channelId);
          expect(sourceOfChannel(channel)).toBe(source);
          expect(channelIdOf(channel)).toBe(channelId);
          expect(isChannelOf(channel, source)).toBe(true);
        },
      ),
    );
    expect(channelIdOf('cm-1:a:b')).toBe('a:b');
  });

  it('does not take a source whose id merely starts the same for the owner', () => {
    expect(isChannelOf('cm-10', 'cm-1')).toBe(false);
    expect(isChannelOf('cm-10:booking', 'cm-1')).toBe(false);
    expect(isChannelOf('ota-1', 'cm-1')).toBe(false);
  });
});
