// A gateway built on the official socket.io-client, driven by GatewayInteropTest.
// Usage: node gateway.js '<json config>'; prints one JSON object per line on stdout.
'use strict';
const { io } = require('socket.io-client');
const crypto = require('crypto');

const cfg = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function prove(gatewayId, nonce, secret) {
  const text = Buffer.from(`peerlink-gateway-auth-v1\n${gatewayId}\n${nonce}`, 'utf8');
  if (cfg.algorithm === 'Ed25519') {
    const key = crypto.createPrivateKey({ key: Buffer.from(cfg.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
    return crypto.sign(null, text, key).toString('base64');
  }
  return crypto.createHmac('sha256', Buffer.from(secret, 'base64')).update(text).digest('base64');
}

function connect() {
  const s = io(cfg.url + '/gateway', {
    path: '/socket.io', transports: [cfg.transport], reconnection: false, forceNew: true,
  });
  s.challenges = [];
  s.waiters = [];
  s.on('challenge', (c) => {
    const w = s.waiters.shift();
    if (w) w(c); else s.challenges.push(c);
  });
  s.on('protocol-error', (e) => out({ step: 'protocol-error', e }));
  return s;
}

function challenge(s) {
  if (s.challenges.length) return Promise.resolve(s.challenges.shift());
  return new Promise((resolve) => s.waiters.push(resolve));
}

const ack = (s, ...args) => s.timeout(10000).emitWithAck(...args);

async function authenticate(s, secret) {
  const c = await challenge(s);
  const proof = prove(cfg.gatewayId, c.nonce, secret);
  const r = await ack(s, 'authenticate', { gatewayId: cfg.gatewayId, algorithm: cfg.algorithm, nonce: c.nonce, proof });
  return { r, nonce: c.nonce, proof };
}

async function full() {
  const s = connect();
  const { r } = await authenticate(s, cfg.secret);
  out({ step: 'auth', r });
  if (!r.ok) process.exit(0);
  let hb = setInterval(() => s.emit('heartbeat', {}), cfg.heartbeatMs);
  s.on('command', (cmd, cb) => {
    out({ step: 'command', cmd });
    if (cmd.name === 'stop-heartbeat') { clearInterval(hb); cb({ ok: true, result: { stopped: true } }); }
    else if (cmd.name === 'refuse') cb({ ok: false, error: 'device busy' });
    else if (cmd.name !== 'ignore') cb({ ok: true, result: { echo: cmd.params } });
  });
  s.on('model:desired', (d) => out({ step: 'desired', d }));
  s.on('disconnect', (reason) => { out({ step: 'disconnect', reason }); process.exit(0); });
  out({ step: 'register', r: await ack(s, 'device:register', { deviceId: 'dev-1', metadata: { model: 'cam-2' } }) });
  out({ step: 'telemetry-json', r: await ack(s, 'telemetry', { deviceId: 'dev-1', values: { temp: 21.5 } }) });
  out({ step: 'telemetry-binary', r: await ack(s, 'telemetry', { deviceId: 'dev-1', values: { image: 'jpeg' } },
    Buffer.from(cfg.attachment, 'base64')) });
  out({ step: 'report', r: await ack(s, 'model:report', { deviceId: 'dev-1', baseVersion: 0, reported: { led: 'on' } }) });
  out({ step: 'report-conflict', r: await ack(s, 'model:report', { deviceId: 'dev-1', baseVersion: 0, reported: { led: 'off' } }) });
  out({ step: 'ready' });
}

async function wrongSecret() {
  const s = connect();
  const { r } = await authenticate(s, cfg.wrongSecret);
  out({ step: 'auth', r });
  const second = await authenticate(s, cfg.secret);
  out({ step: 'auth-after-failure', r: second.r });
  process.exit(0);
}

async function authOnly() {
  const s = connect();
  const { r } = await authenticate(s, cfg.secret);
  out({ step: 'auth', r });
  const c = { nonce: 'never-issued' };
  const again = await ack(s, 'authenticate', { gatewayId: cfg.gatewayId, algorithm: cfg.algorithm, nonce: c.nonce, proof: prove(cfg.gatewayId, c.nonce, cfg.secret) });
  out({ step: 'auth-again', r: again });
  process.exit(0);
}

async function replay() {
  const s1 = connect();
  const first = await authenticate(s1, cfg.secret);
  out({ step: 'auth', r: first.r });
  // A second connection replays the captured (nonce, proof) pair.
  const s2 = connect();
  await challenge(s2);
  const r2 = await ack(s2, 'authenticate', { gatewayId: cfg.gatewayId, algorithm: cfg.algorithm, nonce: first.nonce, proof: first.proof });
  out({ step: 'replay-other-connection', r: r2 });
  // The same connection cannot answer the same nonce twice either.
  const s3 = connect();
  const c3 = await challenge(s3);
  const bad = await ack(s3, 'authenticate', { gatewayId: cfg.gatewayId, algorithm: cfg.algorithm, nonce: c3.nonce, proof: 'AAAA' });
  const again = await ack(s3, 'authenticate', { gatewayId: cfg.gatewayId, algorithm: cfg.algorithm, nonce: c3.nonce, proof: prove(cfg.gatewayId, c3.nonce, cfg.secret) });
  out({ step: 'replay-same-connection', first: bad, second: again });
  process.exit(0);
}

async function badInput() {
  const s = connect();
  out({ step: 'before-auth', r: await ack(s, 'telemetry', { deviceId: 'dev-1', values: {} }) });
  const { r } = await authenticate(s, cfg.secret);
  out({ step: 'auth', r });
  await ack(s, 'device:register', { deviceId: 'dev-1' });
  const cases = {
    'not-object': ['telemetry', 'not an object'],
    'missing-device': ['telemetry', { values: {} }],
    'bad-device-id': ['telemetry', { deviceId: '../../etc', values: {} }],
    'unknown-device': ['telemetry', { deviceId: 'ghost', values: {} }],
    'values-not-object': ['telemetry', { deviceId: 'dev-1', values: [1, 2] }],
    'json-too-large': ['telemetry', { deviceId: 'dev-1', values: { blob: 'x'.repeat(cfg.maxJsonBytes + 10) } }],
    'attachment-not-binary': ['telemetry', { deviceId: 'dev-1', values: {} }, 'text'],
    'unknown-event': ['launch-missiles', {}],
    'bad-version': ['model:report', { deviceId: 'dev-1', baseVersion: -1, reported: {} }],
  };
  for (const [name, args] of Object.entries(cases)) {
    out({ step: name, r: await ack(s, ...args) });
  }
  out({ step: 'second-device', r: await ack(s, 'device:register', { deviceId: 'dev-2' }) });
  out({ step: 'too-many-devices', r: await ack(s, 'device:register', { deviceId: 'dev-3' }) });
  out({ step: 'still-works', r: await ack(s, 'telemetry', { deviceId: 'dev-1', values: { ok: 1 } }) });
  s.on('disconnect', (reason) => { out({ step: 'disconnect', reason }); process.exit(0); });
  // Larger than the transport limit: the server closes this connection.
  s.emit('telemetry', { deviceId: 'dev-1', values: {} }, Buffer.alloc(cfg.maxMessageBytes + 1024));
}

async function flood() {
  const s = connect();
  const { r } = await authenticate(s, cfg.secret);
  out({ step: 'auth', r });
  const acks = await Promise.all(Array.from({ length: cfg.events }, () => ack(s, 'heartbeat', {})));
  const counts = {};
  for (const a of acks) { const k = a.ok ? 'ok' : a.error; counts[k] = (counts[k] || 0) + 1; }
  out({ step: 'flood', counts, sample: acks.find((a) => !a.ok) || null });
  process.exit(0);
}

async function storm() {
  const n = cfg.connections;
  const results = await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = connect();
    s.on('connect', () => { resolve('connected'); });
    s.on('connect_error', (e) => { resolve('refused:' + e.message); });
  })));
  const counts = {};
  for (const r of results) counts[r] = (counts[r] || 0) + 1;
  out({ step: 'storm', counts });
  process.exit(0);
}

const scenarios = { full, auth: authOnly, 'wrong-secret': wrongSecret, replay, 'bad-input': badInput, storm, flood };
scenarios[cfg.scenario]().catch((e) => { out({ step: 'failure', message: String(e && e.stack || e) }); process.exit(2); });
