// Wire protocol v1: every message a browser and a Colloquy server exchange.
// The authoritative definition is protocol/README.md at the repository root.

/** The protocol major version this client speaks. */
export const PROTOCOL_VERSION = 1;

export type Role = 'facilitator' | 'participant';
export type Presence = 'online' | 'away' | 'left';

export const ROLES: readonly Role[] = ['facilitator', 'participant'];
export const PRESENCES: readonly Presence[] = ['online', 'away', 'left'];

/** Every error code of protocol v1 (WebSocket and HTTP). New codes may appear: keep `string` open. */
export type ErrorCode =
  | 'bad_json'
  | 'bad_frame'
  | 'unknown_type'
  | 'missing_field'
  | 'invalid_field'
  | 'unknown_field'
  | 'invalid_name'
  | 'invalid_title'
  | 'room_not_found'
  | 'bad_credentials'
  | 'room_full'
  | 'server_full'
  | 'already_joined'
  | 'not_joined'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal';

/** WebSocket close codes the server uses. */
export const CloseCode = {
  serverShutdown: 1001,
  frameTooLarge: 1009,
  replaced: 4000,
  slowConsumer: 4001,
} as const;

// ---------------------------------------------------------------- limits

export const MAX_ID_CHARS = 64;
export const MAX_ROOM_CHARS = 64;
export const MAX_SECRET_CHARS = 128;
/** The largest seq a client may send back (`after`): the largest integer JavaScript holds exactly. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
export const MAX_NAME_CHARS = 60;
export const MAX_TITLE_CHARS = 120;

// ---------------------------------------------------------------- commands (client -> server)

interface CommandBase {
  id: string;
}

/** `join` with exactly one credential. A name goes with `key` or `code`, never with `resume`. */
export type JoinCommand = CommandBase & { type: 'join'; room: string } & (
    | { key: string; name: string }
    | { code: string; name: string }
    | { resume: string; after?: number }
  );

export interface LeaveCommand extends CommandBase {
  type: 'leave';
}

export interface PingCommand extends CommandBase {
  type: 'ping';
}

export type Command = JoinCommand | LeaveCommand | PingCommand;
export type CommandType = Command['type'];
export const COMMAND_TYPES: readonly CommandType[] = ['join', 'leave', 'ping'];

// ---------------------------------------------------------------- shared shapes

export interface MemberInfo {
  id: string;
  name: string;
  role: Role;
}

export interface SnapshotMember extends MemberInfo {
  presence: Presence;
}

export interface RoomSnapshot {
  room: string;
  seq: number;
  title: string;
  members: SnapshotMember[];
}

/** Result of a successful `join`. */
/** A join's result: a snapshot, or (resume with `after`) a replay whose events follow as pushes. */
export type JoinResult =
  | { member: MemberInfo; resume_token: string; snapshot: RoomSnapshot; replay?: undefined }
  | { member: MemberInfo; resume_token: string; replay: { after: number; events: number }; snapshot?: undefined };

/** Result of `ping`. */
export interface PingResult {
  server_time: number;
}

/** Result of `leave`: an empty object. */
export type LeaveResult = Record<string, never>;

// ---------------------------------------------------------------- room events

export interface RoomCreatedEvent {
  kind: 'room_created';
  title: string;
}
export interface MemberJoinedEvent {
  kind: 'member_joined';
  member: MemberInfo;
}
export interface MemberLeftEvent {
  kind: 'member_left';
  member_id: string;
}
export interface MemberConnectionLostEvent {
  kind: 'member_connection_lost';
  member_id: string;
}
export interface MemberBackEvent {
  kind: 'member_back';
  member_id: string;
}
/** An event kind this client does not know (a later minor version). Ignored, but its seq counts. */
export interface UnknownEvent {
  kind: 'unknown';
  /** The kind as the server sent it. */
  original_kind: string;
}

export type RoomEvent =
  | RoomCreatedEvent
  | MemberJoinedEvent
  | MemberLeftEvent
  | MemberConnectionLostEvent
  | MemberBackEvent
  | UnknownEvent;

// ---------------------------------------------------------------- server messages

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  server: string;
  server_time: number;
  max_frame_bytes: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: string;
  /** Shape depends on the command; see JoinResult, PingResult, LeaveResult and the guards in decode.ts. */
  result: Record<string, unknown>;
}

export interface ErrorMessage {
  type: 'error';
  id: string | null;
  code: ErrorCode | (string & {});
  message: string;
}

export interface EventMessage {
  type: 'event';
  room: string;
  seq: number;
  time: number;
  event: RoomEvent;
}

export type ServerMessage = WelcomeMessage | ReplyMessage | ErrorMessage | EventMessage;

// ---------------------------------------------------------------- HTTP API

export interface CreateRoomRequest {
  title: string;
}

export interface CreateRoomResponse {
  room: string;
  title: string;
  facilitator_key: string;
  join_code: string;
  facilitator_url: string;
  invite_url: string;
}

export interface HttpError {
  error: { code: ErrorCode | (string & {}); message: string };
}

export interface HealthResponse {
  status: 'ok';
  version: string;
  rooms: number;
  connections: number;
}
