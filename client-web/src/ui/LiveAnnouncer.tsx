// The page's one live region (polite), fed by the announcer (../announcer.ts): room events and
// state changes, the countdowns' thresholds, the connection's state and, for facilitators, new
// questions waiting for release. Status text meant to be read in place (a copy's "Copied", a
// field's error) stays where it is.

import { useEffect, useState } from 'preact/hooks';
import {
  Announcer,
  connectionNote,
  describeEvent,
  describeRoomChange,
  pendingNote,
  thresholdNotes,
  timerLevels,
  type Announcement,
  type TimerLevels,
} from '../announcer';
import type { Connection } from '../connection';
import { closingNote, groupsTiming, type GroupsTiming } from '../groups';
import { isFacilitatorRole } from '../room-state';

/** How often the countdowns are checked for their thresholds (ms): the stage redraws as often. */
const THRESHOLD_TICK_MS = 250;

export function LiveAnnouncer({ connection }: { connection: Connection }) {
  const [text, setText] = useState('');
  useEffect(() => {
    const announcer = new Announcer(setText);
    const selfId = () => connection.getSnapshot().self?.id ?? null;
    const say = (items: Announcement[]) => {
      if (items.length > 0) announcer.push(items);
    };
    const offEvent = connection.onRoomEvent((event, after, before) =>
      say([...describeEvent(event, before, after, selfId()), ...describeRoomChange(before, after, selfId())]),
    );
    // A fresh snapshot after a gap: what changed meanwhile (the first join says nothing).
    const offSnapshot = connection.onRoomSnapshot((after, before) => say(describeRoomChange(before, after, selfId())));

    let last = connection.getSnapshot();
    const offState = connection.subscribe(() => {
      const now = connection.getSnapshot();
      const notes: Announcement[] = [];
      const c = connectionNote(last.state, now.state, now.room !== null && now.self !== null);
      if (c) notes.push(c);
      const lead = isFacilitatorRole(now.room?.members.find((m) => m.id === now.self?.id)?.role ?? now.self?.role);
      const p = lead && last.self?.id === now.self?.id ? pendingNote(last.pendingPrompts.length, now.pendingPrompts.length) : null;
      if (p) notes.push(p);
      last = now;
      say(notes);
    });

    let levels: TimerLevels | null = null;
    let groupsWere: GroupsTiming | null = null;
    const tick = setInterval(() => {
      const { room, self } = connection.getSnapshot();
      if (!room || !self) {
        levels = null;
        groupsWere = null;
        return;
      }
      const now = timerLevels(room, connection.serverNow());
      const role = room.members.find((m) => m.id === self.id)?.role ?? self.role;
      if (levels) say(thresholdNotes(levels, now, room, self.id, role));
      levels = now;
      // The recall's warning ran out: "Closing now" (once), during the grace.
      const groupsNow = room.groups ? groupsTiming(room.groups, connection.serverNow()) : null;
      const closing = closingNote(groupsWere, groupsNow, room.groups);
      if (closing) say([closing]);
      groupsWere = groupsNow;
    }, THRESHOLD_TICK_MS);

    return () => {
      clearInterval(tick);
      offEvent();
      offSnapshot();
      offState();
      announcer.dispose();
    };
  }, [connection]);

  return (
    <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
      {text}
    </div>
  );
}
