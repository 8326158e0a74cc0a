// Many gateways in one process, for the command round-trip benchmark
// (io.peerlink.bench.gateway.GatewayCommandRtt). Usage: node fleet.js '<json config>'.
// Every gateway authenticates, registers device "d" and acknowledges every command at once.
// Exits when stdin closes.
'use strict';
const { io } = require('socket.io-client');
const crypto = require('crypto');

const cfg = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const secret = Buffer.from(cfg.secret, 'base64');
const sockets = [];

function gateway(id) {
  return new Promise((resolve) => {
    const s = io(cfg.url + '/gateway', { path: '/socket.io', transports: [cfg.transport], reconnection: false, forceNew: true });
    sockets.push(s);
    s.on('connect_error', (e) => resolve('connect_error: ' + e.message));
    s.on('command', (cmd, cb) => cb({ ok: true, result: {} }));
    s.once('challenge', async (c) => {
      try {
        const text = Buffer.from(`peerlink-gateway-auth-v1\n${id}\n${c.nonce}`, 'utf8');
        const proof = crypto.createHmac('sha256', secret).update(text).digest('base64');
        const r = await s.timeout(30000).emitWithAck('authenticate', { gatewayId: id, algorithm: 'HMAC-SHA256', nonce: c.nonce, proof });
        if (!r.ok) return resolve('auth: ' + r.error);
        const d = await s.timeout(30000).emitWithAck('device:register', { deviceId: 'd' });
        resolve(d.ok ? 'ok' : 'register: ' + d.error);
        setInterval(() => s.emit('heartbeat', {}), cfg.heartbeatMs);
      } catch (e) {
        resolve('error: ' + e.message);
      }
    });
  });
}

async function main() {
  const results = {};
  for (let i = 0; i < cfg.count; i += cfg.parallel) {
    const batch = [];
    for (let j = i; j < Math.min(cfg.count, i + cfg.parallel); j++) batch.push(gateway(cfg.prefix + j));
    for (const r of await Promise.all(batch)) results[r] = (results[r] || 0) + 1;
  }
  out({ step: 'ready', results });
}

process.stdin.on('end', () => { sockets.forEach((s) => s.close()); process.exit(0); });
process.stdin.resume();
main().catch((e) => { out({ step: 'failure', message: String(e && e.stack || e) }); process.exit(2); });
