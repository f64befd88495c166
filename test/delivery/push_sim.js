#!/usr/bin/env node
// push_sim.js — FCM- and APNs-shaped push provider simulator for the delivery tests (Node 20,
// standard library only).
//
//     node push_sim.js CONFIG.json DIR
//
// CONFIG: {fcm_port, apns_port, client_email, sa_public_key (PEM file), project_id,
//          apns_public_key (PEM file), key_id, team_id, topic, tls_cert, tls_key (PEM files)}
//
//   FCM  (plain HTTP/1.1 on 127.0.0.1:fcm_port)
//     POST /token                                  OAuth2 JWT bearer grant: verifies the RS256
//                                                  assertion with the service account's public key
//                                                  and its claims; answers an access token (1 h)
//     POST /v1/projects/{project}/messages:send    needs "Authorization: Bearer <issued token>"
//                                                  (else 401 UNAUTHENTICATED); scenario by token
//     POST /control/revoke                         forgets every issued access token (401 test)
//   APNs (HTTP/2 over TLS on 127.0.0.1:apns_port, certificate tls_cert)
//     POST /3/device/{token}                       verifies the ES256 provider token ("authorization:
//                                                  bearer <jwt>", kid, iss = team id, iat) with the
//                                                  APNs public key; scenario by token
//
// Scenario by the device token (the part before the first '-' is the platform):
//     *-ok-*      200 (FCM {"name": "projects/{project}/messages/<md5 of idempotency key>"},
//                 APNs the request's apns-id echoed)
//     *-r429-*    429 with Retry-After: 2 on the first request of an idempotency key, then 200
//     *-r500-*    500 on the first request of a key, then 200
//     *-unreg-*   FCM 404 UNREGISTERED / APNs 410 Unregistered (always)
//     *-bad-*     FCM 400 UNREGISTERED / APNs 400 BadDeviceToken (always)
//     *-slow-*    no answer for 30 s on the first request of a key (recorded on arrival), then 200
//
// Every request is appended to DIR/requests.jsonl as one JSON object: t (seconds), svc (token |
// fcm | apns), proto (HTTP version), session (HTTP/2 session number), path, auth_ok, auth_error,
// bearer, token (device), key (idempotency key: FCM Idempotency-Key header, APNs apns-id), data
// key, headers of interest, body, status. DIR/ready appears once both servers listen.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const http2 = require('http2');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const DIR = process.argv[3];
const LOG = DIR + '/requests.jsonl';
const saKey = crypto.createPublicKey(fs.readFileSync(cfg.sa_public_key));
const apnsKey = crypto.createPublicKey(fs.readFileSync(cfg.apns_public_key));
const tokenUrl = `http://127.0.0.1:${cfg.fcm_port}/token`;
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

const issued = new Set();     // access tokens handed out and not revoked
const seen = new Map();       // idempotency key -> requests so far
let tokenCount = 0;
let sessionCount = 0;

// Appends one record to the request log.
function record(entry) {
  fs.appendFileSync(LOG, JSON.stringify(Object.assign({ t: Date.now() / 1000 }, entry)) + '\n');
}

// Decodes base64url.
function b64u(s) {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

// Splits and verifies a compact JWS; returns {header, claims} or throws with the reason.
function verifyJwt(jwt, alg, key) {
  const parts = String(jwt || '').split('.');
  if (parts.length !== 3) throw new Error('not a compact JWT');
  const header = JSON.parse(b64u(parts[0]).toString('utf8'));
  const claims = JSON.parse(b64u(parts[1]).toString('utf8'));
  if (header.alg !== alg) throw new Error(`alg ${header.alg}, expected ${alg}`);
  const sig = b64u(parts[2]);
  const data = Buffer.from(parts[0] + '.' + parts[1]);
  let ok;
  if (alg === 'RS256') {
    ok = crypto.verify('sha256', data, key, sig);
  } else {
    // JOSE ES256: raw r||s (64 bytes), not DER
    if (sig.length !== 64) throw new Error(`ES256 signature of ${sig.length} bytes, expected 64`);
    ok = crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  }
  if (!ok) throw new Error('bad signature');
  return { header, claims };
}

// The scenario of a device token: ok, r429, r500, unreg, bad, slow.
function scenario(token) {
  const m = /^[a-z]+-([a-z0-9]+)-/.exec(token || '');
  return m ? m[1] : 'ok';
}

// Counts a request of an idempotency key; returns how many came before it.
function countKey(key) {
  const n = seen.get(key) || 0;
  seen.set(key, n + 1);
  return n;
}

// Collects a request body, then calls done(text).
function readBody(req, done) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

// ---------------------------------------------------------------- FCM (HTTP/1.1)
// Sends a JSON reply on an HTTP/1.1 response.
function reply1(res, status, body, headers) {
  const data = JSON.stringify(body);
  res.writeHead(status, Object.assign({ 'Content-Type': 'application/json',
                                        'Content-Length': Buffer.byteLength(data) }, headers || {}));
  res.end(data);
}

// POST /token: the OAuth2 JWT bearer grant.
function fcmToken(req, res, text) {
  const form = new URLSearchParams(text);
  const entry = { svc: 'token', proto: req.httpVersion, path: req.url,
                  grant_type: form.get('grant_type') };
  try {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      throw new Error('grant_type ' + form.get('grant_type'));
    const { header, claims } = verifyJwt(form.get('assertion'), 'RS256', saKey);
    const now = Date.now() / 1000;
    if (header.typ !== 'JWT') throw new Error('typ ' + header.typ);
    if (claims.iss !== cfg.client_email) throw new Error('iss ' + claims.iss);
    if (claims.scope !== SCOPE) throw new Error('scope ' + claims.scope);
    if (claims.aud !== tokenUrl) throw new Error('aud ' + claims.aud);
    if (Math.abs(claims.iat - now) > 60) throw new Error('iat ' + claims.iat);
    if (claims.exp - claims.iat !== 3600) throw new Error('exp - iat = ' + (claims.exp - claims.iat));
    entry.auth_ok = true;
    entry.claims = claims;
  } catch (e) {
    entry.auth_ok = false;
    entry.auth_error = e.message;
    entry.status = 400;
    record(entry);
    return reply1(res, 400, { error: 'invalid_grant', error_description: e.message });
  }
  const token = `ya29.sim-${++tokenCount}-${crypto.randomBytes(8).toString('hex')}`;
  issued.add(token);
  entry.status = 200;
  entry.access_token = token;
  record(entry);
  reply1(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
}

// FCM error body with an FcmError detail.
function fcmError(code, status, errorCode) {
  const err = { code, message: `simulated ${status}`, status };
  if (errorCode)
    err.details = [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }];
  return { error: err };
}

// POST /v1/projects/{project}/messages:send.
function fcmSend(req, res, text) {
  const auth = req.headers.authorization || '';
  const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : null;
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  const msg = (body && body.message) || {};
  const key = req.headers['idempotency-key'] || null;
  const entry = { svc: 'fcm', proto: req.httpVersion, path: req.url, bearer,
                  auth_ok: bearer !== null && issued.has(bearer), token: msg.token || null,
                  key, data_key: msg.data ? msg.data.idempotency_key : null,
                  ctype: req.headers['content-type'], body };
  const send = (status, out, headers) => {
    entry.status = status;
    record(entry);
    reply1(res, status, out, headers);
  };
  if (req.url !== `/v1/projects/${cfg.project_id}/messages:send`)
    return send(404, fcmError(404, 'NOT_FOUND'));
  if (!entry.auth_ok) {
    entry.auth_error = bearer ? 'unknown or revoked access token' : 'no bearer token';
    return send(401, fcmError(401, 'UNAUTHENTICATED'));
  }
  if (!body || !msg.token) return send(400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'));
  const n = countKey('fcm:' + key);
  const sc = scenario(msg.token);
  const ok = () => send(200, { name: `projects/${cfg.project_id}/messages/` +
                                     crypto.createHash('md5').update(String(key)).digest('hex') });
  if (sc === 'r429' && n === 0) return send(429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), { 'Retry-After': '2' });
  if (sc === 'r500' && n === 0) return send(500, fcmError(500, 'INTERNAL', 'INTERNAL'));
  if (sc === 'unreg') return send(404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED'));
  if (sc === 'bad') return send(400, fcmError(400, 'INVALID_ARGUMENT', 'UNREGISTERED'));
  if (sc === 'slow' && n === 0) {
    entry.stalled = true;
    entry.status = null;
    record(entry);
    const timer = setTimeout(() => { if (!res.writableEnded) reply1(res, 200, { name: 'late' }); }, 30000);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  ok();
}

const fcmServer = http.createServer((req, res) => {
  readBody(req, (text) => {
    if (req.method === 'POST' && req.url === '/token') return fcmToken(req, res, text);
    if (req.method === 'POST' && req.url === '/control/revoke') {
      issued.clear();
      record({ svc: 'control', path: req.url, status: 200 });
      return reply1(res, 200, { revoked: true });
    }
    if (req.method === 'POST') return fcmSend(req, res, text);
    reply1(res, 405, { error: 'method' });
  });
});
fcmServer.keepAliveTimeout = 60000;

// ---------------------------------------------------------------- APNs (HTTP/2 over TLS)
const apnsServer = http2.createSecureServer({
  cert: fs.readFileSync(cfg.tls_cert), key: fs.readFileSync(cfg.tls_key), allowHTTP1: true,
});
apnsServer.on('session', (session) => { session.afpId = ++sessionCount; });

// Verifies an APNs provider token; returns null when valid, else the reason.
function apnsAuthError(auth) {
  if (!auth || !/^bearer /i.test(auth)) return 'no bearer token';
  try {
    const { header, claims } = verifyJwt(auth.slice(7), 'ES256', apnsKey);
    const now = Date.now() / 1000;
    if (header.kid !== cfg.key_id) return 'kid ' + header.kid;
    if (claims.iss !== cfg.team_id) return 'iss ' + claims.iss;
    if (!(claims.iat <= now + 60 && claims.iat > now - 3600)) return 'iat ' + claims.iat;
    return null;
  } catch (e) {
    return e.message;
  }
}

apnsServer.on('request', (req, res) => {
  readBody(req, (text) => {
    const h = req.headers;
    const m = /^\/3\/device\/([^/?]+)$/.exec(req.url);
    const token = m ? decodeURIComponent(m[1]) : null;
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    const authError = apnsAuthError(h.authorization);
    const entry = {
      svc: 'apns', proto: req.httpVersion, session: req.stream && req.stream.session ? req.stream.session.afpId : null,
      path: req.url, auth_ok: authError === null, auth_error: authError, bearer: h.authorization || null,
      token, key: h['apns-id'] || null, data_key: body ? body.idempotency_key : null,
      topic: h['apns-topic'] || null, push_type: h['apns-push-type'] || null,
      expiration: h['apns-expiration'] || null, priority: h['apns-priority'] || null, body,
    };
    const send = (status, out, headers) => {
      entry.status = status;
      record(entry);
      const data = out ? JSON.stringify(out) : '';
      try {
        res.writeHead(status, Object.assign({ 'apns-id': h['apns-id'] || crypto.randomUUID() },
                                            data ? { 'content-type': 'application/json' } : {}, headers || {}));
        res.end(data);
      } catch (e) {
        record({ svc: 'error', where: 'apns reply', message: e.message });   // stream already reset
      }
    };
    if (req.method !== 'POST' || !token) return send(404, { reason: 'BadPath' });
    if (authError) return send(403, { reason: 'InvalidProviderToken' });
    if (h['apns-topic'] !== cfg.topic) return send(400, { reason: 'BadTopic' });
    if (!body || !body.aps) return send(400, { reason: 'PayloadEmpty' });
    const n = countKey('apns:' + h['apns-id']);
    const sc = scenario(token);
    if (sc === 'r429' && n === 0) return send(429, { reason: 'TooManyRequests' }, { 'retry-after': '2' });
    if (sc === 'r500' && n === 0) return send(500, { reason: 'InternalServerError' });
    if (sc === 'unreg') return send(410, { reason: 'Unregistered', timestamp: Date.now() });
    if (sc === 'bad') return send(400, { reason: 'BadDeviceToken' });
    if (sc === 'slow' && n === 0) {
      entry.stalled = true;
      entry.status = null;
      record(entry);
      const timer = setTimeout(() => { if (!res.writableEnded) send(200); }, 30000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    send(200);
  });
});

let listening = 0;
// Writes DIR/ready once both servers listen.
function ready() {
  if (++listening === 2) fs.writeFileSync(DIR + '/ready', String(process.pid));
}
fcmServer.listen(cfg.fcm_port, '127.0.0.1', ready);
apnsServer.listen(cfg.apns_port, '127.0.0.1', ready);
apnsServer.on('sessionError', (e) => record({ svc: 'error', where: 'apns session', message: e.message }));
process.on('uncaughtException', (e) => record({ svc: 'error', where: 'uncaught', message: e.message }));
process.on('SIGTERM', () => process.exit(0));
