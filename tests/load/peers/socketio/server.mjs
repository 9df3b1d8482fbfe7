// The benchmark's peer (not part of the product): the room fan-out that a Node.js team would write
// with Socket.IO 4.8, doing what Colloquy does for the benchmark's commands.
//   join {room, name} or {room, member}   → joins the Socket.IO room; `member_joined` or
//                                            `member_back` to the room; ack {member, seq}
//   hand_raise / hand_lower {}             → one `event` to every member of the room, the sender
//                                            included; ack {} (or {error} when refused)
//   disconnect                             → `member_connection_lost` to the room
// Events have Colloquy's shape: {room, seq, time, event: {kind, member_id}}.
// With --redis URL, @socket.io/redis-adapter carries every broadcast to every instance. Room state
// (seq, raised hands) lives in the instance that holds it; seq counts per room and instance, so
// across instances it is not one order (Socket.IO does not give one).
//
//   node server.mjs [--port 0] [--redis redis://127.0.0.1:6379] [--name a]
// Prints "socketio listening on http://127.0.0.1:PORT" when ready; SIGTERM stops it.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    redis: { type: 'string' },
    name: { type: 'string', default: 'm' },
  },
});

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });

let redisClients = [];
if (args.redis) {
  const pub = createClient({ url: args.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err) => console.error(`redis: ${err.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  redisClients = [pub, sub];
}

/** room id → { seq, members: Map<member id, { raised }> } */
const rooms = new Map();
let nextMember = 0;

function roomOf(id) {
  let room = rooms.get(id);
  if (!room) {
    room = { seq: 0, members: new Map() };
    rooms.set(id, room);
  }
  return room;
}

function broadcast(id, room, event) {
  room.seq += 1;
  io.to(id).emit('event', { room: id, seq: room.seq, time: Date.now(), event });
}

io.on('connection', (socket) => {
  socket.on('join', (msg, ack) => {
    if (typeof ack !== 'function') return;
    if (socket.data.room) return ack({ error: 'already_joined' });
    if (typeof msg?.room !== 'string') return ack({ error: 'invalid_field' });
    const room = roomOf(msg.room);
    let memberId = msg.member;
    let kind = 'member_back';
    if (typeof memberId !== 'string') {
      memberId = `${args.name}${++nextMember}`;
      kind = 'member_joined';
    }
    if (!room.members.has(memberId)) room.members.set(memberId, { raised: false });
    socket.data.room = msg.room;
    socket.data.member = memberId;
    socket.join(msg.room);
    broadcast(msg.room, room, kind === 'member_joined'
      ? { kind, member: { id: memberId, name: String(msg.name ?? ''), role: 'participant' } }
      : { kind, member_id: memberId });
    ack({ member: memberId, seq: room.seq });
  });

  const hand = (raise) => (_msg, ack) => {
    if (typeof ack !== 'function') return;
    const { room: id, member } = socket.data;
    if (!id) return ack({ error: 'not_joined' });
    const room = roomOf(id);
    const state = room.members.get(member);
    if (state.raised === raise) return ack({ error: raise ? 'hand_already_raised' : 'hand_not_raised' });
    state.raised = raise;
    broadcast(id, room, { kind: raise ? 'hand_raised' : 'hand_lowered', member_id: member });
    ack({});
  };
  socket.on('hand_raise', hand(true));
  socket.on('hand_lower', hand(false));

  socket.on('disconnect', () => {
    const { room: id, member } = socket.data;
    if (!id) return;
    broadcast(id, roomOf(id), { kind: 'member_connection_lost', member_id: member });
  });
});

httpServer.listen(Number(args.port), args.host, () => {
  console.log(`socketio listening on http://127.0.0.1:${httpServer.address().port}`);
});

async function stop() {
  io.close();
  await Promise.allSettled(redisClients.map((c) => c.quit()));
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
