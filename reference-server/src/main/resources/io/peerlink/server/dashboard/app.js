// PeerLink dashboard: no framework, no build step. Everything the server sends is written with
// textContent, never as markup: refusal messages and network names can carry device input.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  let source = null;

  function show(section) {
    $('login').hidden = section !== 'login';
    $('app').hidden = section !== 'app';
    $('logout').hidden = section !== 'app';
  }

  function status(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + (cls || '');
  }

  function short(id) {
    return id ? id.substring(0, 8) + '…' : '';
  }

  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + ' MiB';
    return (n / 1024 / 1024 / 1024).toFixed(2) + ' GiB';
  }

  function ago(millis, now) {
    const s = Math.max(0, Math.round((now - millis) / 1000));
    if (s < 120) return s + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }

  function cell(tr, text, title, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (title) td.title = title;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function fill(tableId, rows, render) {
    const body = $(tableId).tBodies[0];
    const fresh = document.createElement('tbody');
    for (const row of rows) {
      const tr = document.createElement('tr');
      render(tr, row);
      fresh.appendChild(tr);
    }
    body.replaceWith(fresh);
  }

  function render(snap) {
    const now = snap.atMillis;
    $('devices-online').textContent = snap.devicesOnline;
    $('links-count').textContent = snap.links.length;
    $('introductions').textContent = snap.introductions;
    $('admissions').textContent = snap.admissions;
    $('refusals-total').textContent = snap.refusalsTotal;
    $('relayed-turn').textContent = bytes(snap.relayedTurnBytes);
    $('relayed-ws').textContent = bytes(snap.relayedWsBytes);
    $('relay-dropped').textContent = snap.relayDropped;
    $('devices-note').textContent = snap.devices.length < snap.devicesOnline
      ? '(newest ' + snap.devices.length + ' of ' + snap.devicesOnline + ')' : '';
    fill('networks', snap.networks, (tr, n) => {
      tr.dataset.network = n.name;
      cell(tr, n.name);
      cell(tr, String(n.online), null, 'num');
    });
    fill('devices', snap.devices, (tr, d) => {
      tr.dataset.device = d.id;
      cell(tr, short(d.id), d.id, 'id');
      cell(tr, d.network);
      cell(tr, d.from);
      cell(tr, ago(d.connectedAtMillis, now));
      cell(tr, d.rttMillis < 0 ? '–' : d.rttMillis.toFixed(2) + ' ms', null, 'num');
    });
    fill('links', snap.links, (tr, l) => {
      tr.dataset.a = l.a;
      tr.dataset.b = l.b;
      tr.dataset.path = l.path;
      cell(tr, short(l.a), l.a, 'id');
      cell(tr, short(l.b), l.b, 'id');
      cell(tr, l.path, null, 'path path-' + l.path.toLowerCase());
      cell(tr, l.rttMillis > 0 ? l.rttMillis.toFixed(2) + ' ms' : '–', null, 'num');
      cell(tr, bytes(l.bytesAtoB), null, 'num');
      cell(tr, bytes(l.bytesBtoA), null, 'num');
      cell(tr, l.reportedBy === 2 ? 'both' : 'one side');
    });
    fill('refusals', snap.refusals, (tr, r) => {
      tr.dataset.reason = r.reason;
      cell(tr, ago(r.atMillis, now));
      cell(tr, r.reason, null, 'reason');
      cell(tr, r.from);
      cell(tr, r.device ? short(r.device) : '–', r.device || null, 'id');
      cell(tr, r.message || '');
    });
  }

  function stream() {
    if (source) source.close();
    source = new EventSource('events');
    source.addEventListener('snapshot', (e) => {
      status('live', 'live');
      render(JSON.parse(e.data));
    });
    source.onerror = () => {
      // EventSource reconnects by itself; an expired session shows up as 401 on the check below.
      status('reconnecting…', 'stale');
      fetch('snapshot', { credentials: 'same-origin' }).then((r) => {
        if (r.status === 401) {
          source.close();
          source = null;
          status('signed out', 'stale');
          show('login');
        }
      }).catch(() => {});
    };
  }

  function start() {
    fetch('snapshot', { credentials: 'same-origin' }).then((r) => {
      if (r.status === 401) {
        status('operator token required', 'stale');
        show('login');
        return null;
      }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then((snap) => {
      if (snap) {
        show('app');
        render(snap);
        stream();
      }
    }).catch((e) => status('error: ' + e.message, 'stale'));
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      $('login-error').textContent = '';
      const token = $('token').value;
      fetch('login', { method: 'POST', credentials: 'same-origin', headers: { Authorization: 'Bearer ' + token } }).then((r) => {
        if (r.status === 204) {
          $('token').value = '';
          start();
        } else if (r.status === 429) {
          $('login-error').textContent = 'Too many failed attempts; wait 10 seconds.';
        } else {
          $('login-error').textContent = 'Wrong operator token.';
        }
      }).catch((err) => { $('login-error').textContent = 'Login failed: ' + err.message; });
    });
    $('logout').addEventListener('click', () => {
      if (source) source.close();
      source = null;
      fetch('logout', { method: 'POST', credentials: 'same-origin' }).finally(() => { show('login'); status('signed out', 'stale'); });
    });
    start();
  });
})();
