// Breakout groups (1.7) in words and numbers, for the stage, the console and the announcer (pure
// logic, no DOM): a group's label by its place in the list ("Group 2", whatever its id), who is
// with whom, the timing (planned time left, the recall's countdown, "closing now" in the grace),
// and what each group event says.

import { listNames, type Note } from './announcer';
import type { BreakoutGroup, GroupFlag, GroupsState, RoomEvent } from './protocol';
import { formatCountdown, groupOf, isFacilitatorRole, type RoomView } from './room-state';

/** Group sizes offered as presets: pairs, triads, fours. */
export const GROUP_SIZE_PRESETS = [
  { size: 2, label: 'Pairs' },
  { size: 3, label: 'Triads' },
  { size: 4, label: 'Fours' },
] as const;

/** Planned times offered for the groups (seconds). */
export const GROUP_DURATION_PRESETS = [300, 600, 900, 1200] as const;

/** "Group 2": the group's place in the list of open groups (ids count across splits: g3 may be Group 1). */
export function groupLabel(groups: GroupsState | null, id: string): string {
  const i = groups?.groups.findIndex((g) => g.id === id) ?? -1;
  return i >= 0 ? `Group ${i + 1}` : 'A group';
}

function nameOf(room: RoomView, id: string): string {
  return room.members.find((m) => m.id === id)?.name ?? 'someone';
}

/** The names of a group's members other than `selfId`, in the group's order. */
export function partnerNames(room: RoomView, group: BreakoutGroup, selfId: string | null): string[] {
  return group.members.filter((m) => m !== selfId).map((m) => nameOf(room, m));
}

/** "You are in Group 2 with Ada and Lin" (or "You are in Group 2" when alone in it). */
export function groupBannerText(room: RoomView, group: BreakoutGroup, selfId: string | null): string {
  const others = partnerNames(room, group, selfId);
  const label = groupLabel(room.groups, group.id);
  return others.length > 0 ? `You are in ${label} with ${listNames(others, 8)}` : `You are in ${label}`;
}

export const MAIN_ROOM_TEXT = 'Groups are working; you are in the main room';

/** Where the groups are in their life: working (with or without a planned end), recalled, closing. */
export type GroupsPhase = 'working' | 'recall' | 'closing';

export interface GroupsTiming {
  phase: GroupsPhase;
  /** Time left: on the planned end while working (null: until recalled), on the warning, on the grace. */
  remainingMs: number | null;
}

export function groupsTiming(groups: GroupsState, serverNow: number): GroupsTiming {
  if (groups.recall_ends_at !== null) {
    if (serverNow < groups.recall_ends_at) return { phase: 'recall', remainingMs: groups.recall_ends_at - serverNow };
    return { phase: 'closing', remainingMs: Math.max(0, (groups.closes_at ?? serverNow) - serverNow) };
  }
  return { phase: 'working', remainingMs: groups.ends_at === null ? null : Math.max(0, groups.ends_at - serverNow) };
}

/** What the timing says on screen: "4:30 left", "Until the facilitator recalls", the recall's words. */
export function timingText(t: GroupsTiming): string {
  if (t.phase === 'recall') return `Back to the main room in ${formatCountdown(t.remainingMs ?? 0)}`;
  if (t.phase === 'closing') return 'Closing now';
  if (t.remainingMs === null) return 'No planned end: until the facilitator recalls everyone';
  return t.remainingMs > 0 ? `${formatCountdown(t.remainingMs)} left` : 'Time is up: the recall starts now';
}

/** What a raised flag says, of a group seen from outside ("Group 2 calls for help"). */
export const flagWords: Record<GroupFlag, string> = {
  done: 'is done',
  more_time: 'asks for 2 more minutes',
  help: 'calls for help',
};

/** What the announcer says for a group event (see describeEvent). */
export function describeGroupsEvent(event: RoomEvent, after: RoomView, selfId: string | null): Note[] {
  const lead = isFacilitatorRole(after.members.find((m) => m.id === selfId)?.role);
  const mine = (room: RoomView) => groupOf(room, selfId);
  switch (event.kind) {
    case 'groups_opened': {
      const g = mine(after);
      if (g) return [{ text: groupBannerText(after, g, selfId) }];
      const n = event.groups.length;
      return [{ text: lead ? `${n} ${n === 1 ? 'group is' : 'groups are'} open; you are in the main room` : MAIN_ROOM_TEXT }];
    }
    case 'group_member_moved': {
      if (event.member_id !== selfId) return [];
      const g = mine(after);
      return [{ text: g ? `You were moved. ${groupBannerText(after, g, selfId)}` : 'You were moved to the main room' }];
    }
    case 'groups_message':
      return [{ text: `Message from the facilitator: ${event.text}` }];
    case 'groups_extended':
      return [{ text: 'The groups have more time' }];
    case 'groups_recalled':
      return [{ text: 'Everyone is called back to the main room: watch the countdown', key: `recall:${event.closes_at}` }];
    case 'groups_closed':
      return [{ text: 'Everyone is back in the main room' }];
    case 'group_flag_changed': {
      if (event.by === selfId) return [];
      const label = groupLabel(after.groups, event.group);
      if (mine(after)?.id === event.group) {
        const who = nameOf(after, event.by);
        if (!event.on) return isFacilitatorRole(after.members.find((m) => m.id === event.by)?.role) ? [{ text: `The facilitator answered: ${ownFlagOff[event.flag]}` }] : [];
        return [{ text: `${who} ${ownFlagOn[event.flag]}` }];
      }
      return lead && event.on ? [{ text: `${label} ${flagWords[event.flag]}` }] : [];
    }
    default:
      return [];
  }
}

const ownFlagOn: Record<GroupFlag, string> = {
  done: 'said your group is done',
  more_time: 'asked for 2 more minutes',
  help: 'called the facilitator',
};
const ownFlagOff: Record<GroupFlag, string> = {
  done: 'your group is no longer marked done',
  more_time: 'no more time for now',
  help: 'your call for help was seen',
};

/** The note when the recall's warning has run out and the grace starts (said once per recall). */
export function closingNote(before: GroupsTiming | null, now: GroupsTiming | null, groups: GroupsState | null): Note | null {
  if (!now || !groups || now.phase !== 'closing' || before?.phase !== 'recall') return null;
  return { text: 'Closing now', key: `closing:${groups.closes_at}` };
}

/** The participants a random or fresh split takes (online participants: the server's rule). */
export function splittable(room: RoomView): number {
  return room.members.filter((m) => m.role === 'participant' && m.presence === 'online').length;
}

/**
 * The sizes of the groups a split of `n` into groups of `size` makes (the server's rule: n / size
 * groups, the rest spread one each, so none is smaller than `size`); empty when n < size.
 */
export function splitSizes(n: number, size: number): number[] {
  if (!Number.isInteger(size) || size < 2 || n < size) return [];
  const k = Math.floor(n / size);
  const base = Math.floor(n / k);
  const extra = n % k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/** "4 participants online: 2 groups of 2", "7 participants online: 1 group of 3 and 2 groups of 2". */
export function splitPreview(n: number, size: number): string {
  const who = `${n} ${n === 1 ? 'participant' : 'participants'} online`;
  const sizes = splitSizes(n, size);
  if (sizes.length === 0) return `${who}: too few for groups of ${size}`;
  const counts = new Map<number, number>();
  for (const s of sizes) counts.set(s, (counts.get(s) ?? 0) + 1);
  const parts = [...counts.entries()].map(([s, c]) => `${c} ${c === 1 ? 'group' : 'groups'} of ${s}`);
  return `${who}: ${listNames(parts)}`;
}

/** What a group's member sees of their own raised flag (null: not raised). */
export const ownFlagState: Record<GroupFlag, string> = {
  done: 'Your group said it is done.',
  more_time: 'You asked for 2 more minutes.',
  help: 'The facilitator has been called. Press again to take it back.',
};

/** What the facilitator confirms before closing the groups at once. */
export const CLOSE_GROUPS_WARNING =
  'Close the groups now? Everyone returns to the main room at once, without the countdown, even mid-sentence.';
