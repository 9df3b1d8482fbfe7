// Helpers that build a room with members over the real protocol.
import { createRoom, type CreatedRoom } from './api.js';
import { TestClient, type Frame } from './ws-client.js';

export interface Member {
  client: TestClient;
  /** The join result: {member, resume_token, snapshot}. */
  result: Frame;
  id: string;
  token: string;
}

export async function joinWith(wsUrl: string, fields: Frame, label: string): Promise<Member> {
  const client = await TestClient.connectWelcomed(wsUrl, label);
  const result = await client.request({ type: 'join', ...fields });
  return { client, result, id: result.member.id, token: result.resume_token };
}

export function joinFacilitator(wsUrl: string, room: CreatedRoom, name = 'Grace', label = 'facilitator'): Promise<Member> {
  return joinWith(wsUrl, { room: room.room, key: room.facilitator_key, name }, label);
}

export function joinParticipant(wsUrl: string, room: CreatedRoom, name: string, label = name): Promise<Member> {
  return joinWith(wsUrl, { room: room.room, code: room.join_code, name }, label);
}

/** A room with a facilitator connected (the usual watcher). */
export async function roomWithFacilitator(baseUrl: string, wsUrl: string, title = 'Spring cohort'): Promise<{ room: CreatedRoom; fac: Member }> {
  const room = await createRoom(baseUrl, title);
  const fac = await joinFacilitator(wsUrl, room);
  return { room, fac };
}

/** Joins a fresh participant and returns its snapshot: a probe of the room state. */
export async function probeSnapshot(wsUrl: string, room: CreatedRoom, name = 'Probe'): Promise<{ member: Member; snapshot: Frame }> {
  const member = await joinParticipant(wsUrl, room, name, `probe-${name}`);
  return { member, snapshot: member.result.snapshot };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
