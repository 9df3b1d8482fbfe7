// Strict checking of frames in both directions.
//   decodeServerMessage: what the client accepts from the server (welcome, reply, error, event).
//   checkCommand: mirrors the server's command decoder (server/protocol/codec.cpp) exactly, including
//   the order in which errors are found; protocol/vectors/commands.json pins that behaviour.

import { cleanDisplayText, hasLoneSurrogate, validLength } from './text';
import {
  MAX_ID_CHARS,
  MAX_NAME_CHARS,
  MAX_ROOM_CHARS,
  MAX_SECRET_CHARS,
  MAX_SEQ,
  PRESENCES,
  ROLES,
  type CommandType,
  type ErrorCode,
  type ErrorMessage,
  type EventMessage,
  type JoinResult,
  type MemberInfo,
  type PingResult,
  type Presence,
  type ReplyMessage,
  type Role,
  type RoomEvent,
  type RoomSnapshot,
  type ServerMessage,
  type SnapshotMember,
  type WelcomeMessage,
} from './types';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}
function isNonNegInt(v: unknown): v is number {
  return isInteger(v) && v >= 0;
}
function isRole(v: unknown): v is Role {
  return isString(v) && (ROLES as readonly string[]).includes(v);
}
function isPresence(v: unknown): v is Presence {
  return isString(v) && (PRESENCES as readonly string[]).includes(v);
}

/** Parses JSON text; undefined when it is not valid JSON (including lone-surrogate escapes). */
function parseJson(text: string): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // The server's JSON parser rejects \uD800-style escapes that do not form a pair; JSON.parse keeps them.
  if (containsLoneSurrogate(value)) return undefined;
  return { value };
}

function containsLoneSurrogate(v: unknown): boolean {
  if (isString(v)) return hasLoneSurrogate(v);
  if (Array.isArray(v)) return v.some(containsLoneSurrogate);
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (hasLoneSurrogate(k) || containsLoneSurrogate(v[k])) return true;
    }
  }
  return false;
}

// =============================================================== server -> client

export type DecodeResult = { ok: true; message: ServerMessage } | { ok: false; reason: string };

function bad(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

export function decodeMember(v: unknown): MemberInfo | undefined {
  if (!isObject(v)) return undefined;
  if (!isString(v.id) || !isString(v.name) || !isRole(v.role)) return undefined;
  return { id: v.id, name: v.name, role: v.role };
}

export function decodeSnapshotMember(v: unknown): SnapshotMember | undefined {
  const m = decodeMember(v);
  if (!m || !isObject(v) || !isPresence(v.presence)) return undefined;
  return { ...m, presence: v.presence };
}

/** Decodes an `event` object (the body of an event push). Unknown kinds become `{kind: 'unknown'}`. */
export function decodeRoomEvent(v: unknown): RoomEvent | undefined {
  if (!isObject(v) || !isString(v.kind)) return undefined;
  switch (v.kind) {
    case 'room_created':
      return isString(v.title) ? { kind: 'room_created', title: v.title } : undefined;
    case 'member_joined': {
      const member = decodeMember(v.member);
      return member ? { kind: 'member_joined', member } : undefined;
    }
    case 'member_left':
    case 'member_connection_lost':
    case 'member_back':
      return isString(v.member_id) ? { kind: v.kind, member_id: v.member_id } : undefined;
    default:
      return { kind: 'unknown', original_kind: v.kind };
  }
}

export function decodeSnapshot(v: unknown): RoomSnapshot | undefined {
  if (!isObject(v)) return undefined;
  if (!isString(v.room) || !isNonNegInt(v.seq) || !isString(v.title) || !Array.isArray(v.members)) return undefined;
  const members: SnapshotMember[] = [];
  for (const raw of v.members) {
    const m = decodeSnapshotMember(raw);
    if (!m) return undefined;
    members.push(m);
  }
  return { room: v.room, seq: v.seq, title: v.title, members };
}

/** Reads a `join` reply's result; undefined when it does not have the documented shape. */
export function decodeJoinResult(result: unknown): JoinResult | undefined {
  if (!isObject(result)) return undefined;
  const member = decodeMember(result.member);
  if (!member || !isString(result.resume_token) || result.resume_token.length === 0) return undefined;
  // Either a snapshot, or a replay: the missed events follow as ordinary event pushes.
  if (has(result, 'snapshot')) {
    const snapshot = decodeSnapshot(result.snapshot);
    if (!snapshot || has(result, 'replay')) return undefined;
    return { member, resume_token: result.resume_token, snapshot };
  }
  const replay = result.replay;
  if (!isObject(replay) || !isNonNegInt(replay.after) || !isNonNegInt(replay.events)) return undefined;
  return { member, resume_token: result.resume_token, replay: { after: replay.after, events: replay.events } };
}

/** Reads a `ping` reply's result. */
export function decodePingResult(result: unknown): PingResult | undefined {
  if (!isObject(result) || !isInteger(result.server_time)) return undefined;
  return { server_time: result.server_time };
}

function decodeWelcome(o: Obj): DecodeResult {
  if (!isNonNegInt(o.protocol)) return bad("welcome needs an integer 'protocol'");
  if (!isString(o.server)) return bad("welcome needs a string 'server'");
  if (!isInteger(o.server_time)) return bad("welcome needs an integer 'server_time'");
  if (!isNonNegInt(o.max_frame_bytes)) return bad("welcome needs an integer 'max_frame_bytes'");
  const message: WelcomeMessage = {
    type: 'welcome',
    protocol: o.protocol,
    server: o.server,
    server_time: o.server_time,
    max_frame_bytes: o.max_frame_bytes,
  };
  return { ok: true, message };
}

function decodeReply(o: Obj): DecodeResult {
  if (!isString(o.id)) return bad("reply needs a string 'id'");
  if (!isObject(o.result)) return bad("reply needs an object 'result'");
  const message: ReplyMessage = { type: 'reply', id: o.id, result: o.result };
  return { ok: true, message };
}

function decodeError(o: Obj): DecodeResult {
  if (!has(o, 'id') || !(o.id === null || isString(o.id))) return bad("error needs 'id' (a string or null)");
  if (!isString(o.code) || o.code.length === 0) return bad("error needs a string 'code'");
  if (!isString(o.message)) return bad("error needs a string 'message'");
  const message: ErrorMessage = { type: 'error', id: o.id, code: o.code as ErrorCode, message: o.message };
  return { ok: true, message };
}

function decodeEvent(o: Obj): DecodeResult {
  if (!isString(o.room)) return bad("event needs a string 'room'");
  if (!isInteger(o.seq) || o.seq < 1) return bad("event needs an integer 'seq' of at least 1");
  if (!isNonNegInt(o.time)) return bad("event needs an integer 'time'");
  const event = decodeRoomEvent(o.event);
  if (!event) return bad("event needs a valid 'event' body");
  const message: EventMessage = { type: 'event', room: o.room, seq: o.seq, time: o.time, event };
  return { ok: true, message };
}

/**
 * Strictly validates one frame from the server. Unknown extra fields are ignored; unknown event
 * kinds are accepted as kind "unknown" (the client ignores them but still advances its seq).
 */
export function decodeServerMessage(text: string): DecodeResult {
  const parsed = parseJson(text);
  if (!parsed) return bad('not valid JSON');
  const o = parsed.value;
  if (!isObject(o)) return bad('not a JSON object');
  if (!isString(o.type)) return bad("no string 'type'");
  switch (o.type) {
    case 'welcome':
      return decodeWelcome(o);
    case 'reply':
      return decodeReply(o);
    case 'error':
      return decodeError(o);
    case 'event':
      return decodeEvent(o);
    default:
      return bad(`unknown message type '${o.type}'`);
  }
}

// =============================================================== client -> server

export type CheckResult =
  | { ok: true; type: CommandType }
  | { ok: false; code: ErrorCode; id: string | null; message: string };

class CommandError {
  constructor(
    readonly code: ErrorCode,
    readonly id: string | null,
    readonly message: string,
  ) {}
}

function fail(code: ErrorCode, id: string | null, message: string): never {
  throw new CommandError(code, id, message);
}

/** A string field of 1..max code points. */
function requireString(o: Obj, name: string, max: number, id: string): string {
  if (!has(o, name)) fail('missing_field', id, `missing field '${name}'`);
  const v = o[name];
  if (!isString(v)) fail('invalid_field', id, `field '${name}' must be a string`);
  if (!validLength(v, max)) fail('invalid_field', id, `field '${name}' must be 1 to ${max} characters`);
  return v;
}

function onlyFields(o: Obj, allowed: readonly string[], id: string): void {
  for (const k of Object.keys(o)) {
    if (k === 'type' || k === 'id') continue;
    if (!allowed.includes(k)) fail('unknown_field', id, `unknown field '${k}'`);
  }
}

function checkJoin(o: Obj, id: string): void {
  onlyFields(o, ['room', 'key', 'code', 'resume', 'name', 'after'], id);
  requireString(o, 'room', MAX_ROOM_CHARS, id);
  let chosen: string | undefined;
  for (const k of ['key', 'code', 'resume']) {
    if (!has(o, k)) continue;
    if (chosen) fail('invalid_field', id, "give only one of 'key', 'code' and 'resume'");
    chosen = k;
  }
  if (!chosen) fail('missing_field', id, "missing field: one of 'key', 'code' or 'resume'");
  requireString(o, chosen, MAX_SECRET_CHARS, id);
  if (chosen === 'resume') {
    if (has(o, 'name')) fail('invalid_field', id, "field 'name' is not allowed with 'resume'");
    // JSON cannot tell 1.0 from 1 here; the server also refuses 1.0 (write integers as integers).
    if (has(o, 'after') && !(isNonNegInt(o.after) && o.after <= MAX_SEQ)) {
      fail('invalid_field', id, "field 'after' must be a whole number from 0 to 2^53-1");
    }
    return;
  }
  if (has(o, 'after')) fail('invalid_field', id, "field 'after' is only allowed with 'resume'");
  if (!has(o, 'name')) fail('missing_field', id, "missing field 'name'");
  const name = o.name;
  if (!isString(name)) fail('invalid_field', id, "field 'name' must be a string");
  if (cleanDisplayText(name, MAX_NAME_CHARS) === null) {
    fail('invalid_name', id, 'name must be 1 to 60 characters, without control characters');
  }
}

function check(text: string): CommandType {
  const parsed = parseJson(text);
  if (!parsed) fail('bad_json', null, 'frame is not valid JSON');
  const o = parsed.value;
  if (!isObject(o)) fail('bad_frame', null, 'frame must be a JSON object');

  const rawId = o.id;
  const id = isString(rawId) && validLength(rawId, MAX_ID_CHARS) ? rawId : null;
  if (!isString(o.type)) fail('bad_frame', id, "frame needs a string 'type'");
  if (!has(o, 'id')) fail('missing_field', null, "missing field 'id'");
  if (id === null) fail('invalid_field', null, "field 'id' must be a string of 1 to 64 characters");

  const type = o.type;
  if (type === 'join') {
    checkJoin(o, id);
    return 'join';
  }
  if (type === 'leave' || type === 'ping') {
    onlyFields(o, [], id);
    return type;
  }
  return fail('unknown_type', id, `unknown message type '${type}'`);
}

/**
 * Checks a command frame exactly as the server's strict decoder does: the same verdict, the same
 * error code and the same error id for every frame (see protocol/vectors/commands.json).
 */
export function checkCommand(text: string): CheckResult {
  try {
    return { ok: true, type: check(text) };
  } catch (e) {
    if (e instanceof CommandError) return { ok: false, code: e.code, id: e.id, message: e.message };
    throw e;
  }
}
