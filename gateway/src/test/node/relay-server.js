// The relay protocol of docs/gateway.md ("Datagram relay") on the official npm socket.io server,
// for SocketIoTransportInteropTest (transports/socketio). Usage: node relay-server.js '<json config>'
// with { secret: base64 }; prints {"port": N} once listening on 127.0.0.1 (ephemeral port).
'use strict';
const { Server } = require('socket.io');
const http = require('http');
const crypto = require('crypto');

const cfg = JSON.parse(process.argv[2]);
const secret = Buffer.from(cfg.secret, 'base64');
const httpServer = http.createServer();
const io = new Server(httpServer, { path: '/socket.io', maxHttpBufferSize: 1e6 });
const online = new Map();

io.of('/relay').on('connection', (socket) => {
  const nonce = crypto.randomBytes(32).toString('base64url');
  let used = false;
  let id = null;
  socket.emit('challenge', { nonce, algorithms: ['HMAC-SHA256'], expiresInMs: 30000 });
  socket.on('authenticate', (body, ack) => {
    const text = Buffer.from(`peerlink-gateway-auth-v1\n${body.gatewayId}\n${nonce}`, 'utf8');
    const expected = crypto.createHmac('sha256', secret).update(text).digest();
    const proof = Buffer.from(String(body.proof || ''), 'base64');
    const ok = !used && body.nonce === nonce && proof.length === expected.length && crypto.timingSafeEqual(proof, expected);
    used = true;
    if (!ok) { ack({ ok: false, error: 'auth-failed' }); socket.disconnect(true); return; }
    id = body.gatewayId;
    online.set(id, socket);
    ack({ ok: true, maxDatagramBytes: 16384 });
  });
  socket.on('datagram', (to, data) => {
    const target = online.get(to);
    if (id && target && Buffer.isBuffer(data)) target.emit('datagram', id, data);
  });
  socket.on('disconnect', () => { if (id && online.get(id) === socket) online.delete(id); });
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
