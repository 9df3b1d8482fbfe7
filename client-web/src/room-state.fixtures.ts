// Fixtures shared by the room-state tests (imported by tests only, never by the app).
import { describeEvent } from './announcer';
import type { RoomEvent } from './protocol';
import { applyEvent, emptyRoom, type RoomView } from './room-state';

/** Room "r" at seq 10 with Grace (facilitator), Ada and Lin (participants), all online, no airtime. */
export function testRoom(): RoomView {
  const r = emptyRoom('r', 'T');
  r.seq = 10;
  r.members = [
    { id: 'm1', name: 'Grace', role: 'facilitator', presence: 'online', airtime_ms: 0, hand: false },
    { id: 'm2', name: 'Ada', role: 'participant', presence: 'online', airtime_ms: 0, hand: false },
    { id: 'm3', name: 'Lin', role: 'participant', presence: 'online', airtime_ms: 0, hand: false },
  ];
  return r;
}

/** Applies events in order from seq + 1, each at time 1000 × seq. */
export function run(start: RoomView, ...events: RoomEvent[]): RoomView {
  return events.reduce((r, e) => applyEvent(r, e, r.seq + 1, (r.seq + 1) * 1000), start);
}

/** What the announcer says for one event in `room` (seen before and after alike), or null. */
export function announce(event: RoomEvent, room: RoomView, self: { id: string; name?: string; role?: string } | null): string | null {
  const texts = describeEvent(event, room, room, self?.id ?? null).map((a) => ('presence' in a ? `${a.name} ${a.presence}` : a.text));
  return texts.length > 0 ? texts.join(' / ') : null;
}
