// Human text for error codes and connection states (English; one place to change wording).

import type { ConnectionState } from './connection';

export const stateText: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
  replaced: 'Open in another tab',
  failed: 'Not connected',
  update_required: 'Update required',
  left: 'Not in the room',
  removed: 'Removed from the room',
  closed: 'Room closed',
};

const errorText: Record<string, string> = {
  invalid_name: 'Please enter a name of 1 to 60 characters.',
  invalid_title: 'Please enter a title of 1 to 120 characters, without special control characters.',
  bad_credentials: 'This link is not valid for this session. Ask the facilitator for the invite link again.',
  room_not_found: 'This session does not exist, or it has ended.',
  room_full: 'This session is full. Ask the facilitator for help.',
  server_full: 'The server cannot start more sessions right now. Please try again later.',
  create_token_required: 'This server starts sessions for its own staff only. Enter the creation token your administrator gave you.',
  rate_limited: 'Too many requests from your network just now. Please wait a moment and try again.',
  payload_too_large: 'That is too long. Please shorten it.',
  internal: 'Something went wrong on the server. Please try again.',
  network: 'Could not reach the Colloquy server. Check your connection and try again.',
  replaced: 'You opened this session in another tab, window or device, so it was closed here. Use it here instead, and the other one lets go.',
  identity_lost:
    'This browser could not bring you back: you may have been removed from the room. Ask the facilitator for the invite link to join again.',
  resume_refused:
    'This browser could not bring you back as before: you may have been removed from the room. Enter your name to join as a new member.',
  update_required: 'Colloquy has been updated. Please reload the page.',
  removed: 'A facilitator removed you from this room. To take part again, ask for the invite link: you would join as a new member.',
  room_closed: 'The facilitator closed this room for good. Everything in it has been deleted.',
  room_state_full: 'This room holds as much as it can. Remove some cards first, or keep it shorter.',
  deck_full: 'The deck holds 200 cards, its maximum. Remove one first.',
  too_many_prompts: 'Too many prompts are waiting or have been released in this room.',
  audit_full: 'The audit has all the comments it can hold. Send your answer without a comment, or a shorter one.',
  cannot_remove: 'That member cannot be removed.',
  // Refused room commands, in the words of the person who pressed the button (not the server's).
  forbidden: 'Your role in this room does not allow that.',
  not_your_turn: 'It is not your turn, so there is nothing to finish or pass.',
  no_round: 'No go-round is running now.',
  no_turn: 'Nobody is speaking, so there is no turn timer to start.',
  round_in_progress: 'A go-round is running: end it first.',
  queue_empty: 'Nobody has raised a hand, so there is nobody to give the floor to.',
  hand_already_raised: 'Your hand is already raised.',
  hand_not_raised: 'That hand is not raised.',
  unknown_member: 'That member is no longer in the room.',
  invalid_duration: 'Choose a time from 1 second to 4 hours, for example 3 (minutes), 1:30 or 45 s.',
  timer_not_running: 'That timer is not running, so it cannot be paused or given more time.',
  facilitator_present: 'The facilitator is online (or was a moment ago), so you cannot take over yet.',
  unknown_prompt: 'That question is no longer there.',
  already_voted: 'You have already voted for this question.',
  no_audit: 'No climate check is open now.',
  audit_in_progress: 'A climate check is open already: close it first.',
  already_answered: 'You have already answered this climate check.',
  unknown_card: 'That card is no longer in the deck.',
  deck_empty: 'The deck has no cards yet. Add a card first.',
  unavailable: 'The room could not be changed just now. Please try again.',
  busy: 'The room is busy just now. Please try again in a moment.',
  outcome_unknown: 'The server could not confirm that change. Wait a moment to see whether it happened before trying again.',
  not_connected: 'Not connected to the session right now. Try again in a moment.',
  activity_paused: 'The round is paused. A facilitator presses Resume to go on.',
  not_paused: 'Nothing is paused.',
  nothing_to_pause: 'No go-round, turn or timer is running, so there is nothing to pause.',
  already_in_round: 'That member is still to speak in this go-round.',
  member_is_observer: 'Observers do not speak in go-rounds. Make them a participant first.',
  // Breakout groups (1.7).
  invalid_group_size:
    'That group size does not work here: choose at least 2, and no more than the participants online (at most 50 groups).',
  groups_open: 'Groups are open already: close them first.',
  no_groups: 'No groups are open now.',
  unknown_group: 'That group is no longer open.',
  not_in_group: 'You are in the main room, not in a group.',
  already_recalled: 'Everyone is being called back already.',
  invalid_text: 'Write 1 to 280 characters, without special control characters.',
};

export function errorMessage(code: string, fallback?: string): string {
  return errorText[code] ?? fallback ?? 'Something went wrong. Please try again.';
}
