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
  replaced: 'You opened this session in another tab or window, so it was closed here.',
  update_required: 'Colloquy has been updated. Please reload the page.',
  removed: 'A facilitator removed you from this room. To take part again, ask for the invite link: you would join as a new member.',
  room_closed: 'The facilitator closed this room for good. Everything in it has been deleted.',
  room_state_full: 'This room holds as much as it can. Remove some cards first, or keep it shorter.',
  deck_full: 'The deck holds 200 cards, its maximum. Remove one first.',
  too_many_prompts: 'Too many prompts are waiting or have been released in this room.',
  audit_full: 'The audit has all the comments it can hold. Send your answer without a comment, or a shorter one.',
  cannot_remove: 'That member cannot be removed.',
};

export function errorMessage(code: string, fallback?: string): string {
  return errorText[code] ?? fallback ?? 'Something went wrong. Please try again.';
}
