// Safety net for every test file: no client socket or server process outlives its test / file.
// Clients opened in beforeAll are shared by the file's tests and live until afterAll.
import { afterAll, afterEach, beforeEach } from 'vitest';
import { stopAllProxies } from './proxy.js';
import { destroyRawSockets } from './raw-ws.js';
import { stopAllRedis } from './redis.js';
import { stopAllServers } from './server.js';
import { markSharedClients, terminateAllClients, terminateTestClients } from './ws-client.js';

beforeEach(() => {
  markSharedClients();
});

afterEach(() => {
  // Tests close their own clients; a test that failed half-way may leave some open.
  terminateTestClients();
  destroyRawSockets();
});

afterAll(async () => {
  terminateAllClients();
  await stopAllProxies();
  await stopAllServers();
  await stopAllRedis();
});
