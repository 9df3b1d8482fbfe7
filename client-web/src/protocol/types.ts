// Wire protocol v1: the message types are generated from protocol/messages.json (generated.ts);
// this adds the client's own views of them. The authority is protocol/README.md.

export * from './generated';
import type { AuditState, DeckState, GroupsState, FloorState, MemberInfo, PauseState, RoomSettings, RoomTimers, RoundState, RoundSummary, TurnState, SnapshotMember, ReleasedPrompt, ErrorCode } from './generated';

/**
 * The live-round (1.2) part of a room: in a join snapshot and in the client's room view.
 * The decoder defaults these fields when an older server leaves them out.
 */
export interface LiveRoomState {
  settings: RoomSettings;
  round: RoundState | null;
  floor: FloorState;
  turn: TurnState | null;
  timers: RoomTimers;
  /** The room's activity is paused (1.6): after a restart, or by a facilitator; null when not. */
  paused: PauseState | null;
  /** The last go-round, from its end until the next starts (1.6); null when none. */
  last_round: RoundSummary | null;
  /** True when the snapshot carried the 1.2 fields (the server speaks live rounds). */
  live: boolean;
}

/** A join snapshot, with every field an older server leaves out defaulted. */
export interface RoomSnapshot extends LiveRoomState {
  room: string;
  seq: number;
  title: string;
  members: SnapshotMember[];
  /** Released anonymous prompts (1.3; [] from an older server). */
  prompts: ReleasedPrompt[];
  /** The latest climate-for-learning audit (1.3; null when none, or from an older server). */
  audit: AuditState | null;
  /** The challenge deck (1.3; null from an older server: no deck shown). */
  deck: DeckState | null;
  /** The breakout groups while open (1.7; null when none, or from an older server). */
  groups: GroupsState | null;
}

/** A join's result: a snapshot, or (resume with `after`) a replay whose events follow as pushes. */
export type JoinResult =
  | { member: MemberInfo; resume_token: string; snapshot: RoomSnapshot; replay?: undefined }
  | { member: MemberInfo; resume_token: string; replay: { after: number; events: number }; snapshot?: undefined };

/** Result of `leave`: an empty object. */
export type LeaveResult = Record<string, never>;

export interface HealthResponse {
  status: 'ok';
  version: string;
  rooms: number;
  connections: number;
}

/** An HTTP error body's code (open: codes may be added). */
export type HttpErrorCode = ErrorCode | (string & {});
