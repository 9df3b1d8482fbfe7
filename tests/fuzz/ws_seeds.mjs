// Writes seeds for ws_frame_fuzz into a directory: every frame of the conformance vectors as a
// masked client frame, whole and in fragments with a ping between, then a close.
//   node tests/fuzz/ws_seeds.mjs protocol/vectors/commands.json OUT_DIR
import { readFileSync, writeFileSync } from 'node:fs';

const [vectors, out] = process.argv.slice(2);
const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function frame(b0, payload) {
  const n = payload.length;
  const length = n < 126 ? [0x80 | n] : n <= 0xffff ? [0x80 | 126, n >> 8, n & 255] : null;
  if (!length) throw new Error('seed too large');
  return Buffer.concat([Buffer.from([b0, ...length]), key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]))]);
}

const close = frame(0x88, Buffer.from([0x03, 0xe8, ...Buffer.from('bye')]));
JSON.parse(readFileSync(vectors, 'utf8')).cases.forEach((c, i) => {
  const text = Buffer.from(c.frame, 'utf8');
  const half = Math.floor(text.length / 2);
  const fragmented = [frame(0x01, text.subarray(0, half)), frame(0x89, Buffer.from('hi')), frame(0x80, text.subarray(half))];
  // The first byte chooses the fuzzer's split (see ws_frame_fuzz.cpp).
  writeFileSync(`${out}/w${i}`, Buffer.concat([Buffer.from([i % 64]), frame(0x81, text), close]));
  writeFileSync(`${out}/f${i}`, Buffer.concat([Buffer.from([(i * 7) % 64]), ...fragmented, close]));
});
