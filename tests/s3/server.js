// SPDX-License-Identifier: MIT
//
// server.js - the S3-protocol server of rawcap's tests and benchmark: s3rver
// (a filesystem-backed S3 server from npm) behind a front that adds what
// s3rver lacks, so that the client is held to what AWS S3 demands.
//
// What s3rver 3.7.1 checks by itself: for a Signature V4 request only that
// the access key id exists (its middleware says "Signature version 4
// calculation is unimplemented"), and a request without an Authorization
// header is let through as anonymous. So this front, before s3rver sees a
// request, verifies SigV4 in full with AWS's own signer (@smithy/signature-v4):
// method, canonical path (decoded then RFC 3986-encoded again, as AWS does),
// canonical query (sorted and encoded by the signer, not as sent), every
// signed header, the credential scope and the clock (15 minutes). Unsigned,
// unknown-key, wrong-secret and wrong-session-token requests are refused
// with S3's error codes. A payload sent with a hex x-amz-content-sha256 is
// hashed as s3rver stores it; if the bytes differ from the signed hash the
// answer becomes 400 XAmzContentSHA256Mismatch and the object is removed.
//
// It also serves what s3rver does not: ListMultipartUploads and
// AbortMultipartUpload (over s3rver's own uploads directory), and, on a
// second port, STS AssumeRoleWithWebIdentity: a token equal to the file
// $STS_TOKEN_FILE and role $STS_ROLE_ARN get temporary keys with a session
// token, valid $STS_DURATION seconds, that this front then accepts (each
// secret and token issued is appended to $STS_ISSUED, if set, for the tests).
//
// Usage: node server.js --dir DIR --port P [--sts-port P] [--bucket B]... [--log FILE]
//                       [--tls-port P --tls-cert PEM --tls-key PEM]  (the same over HTTPS)
// Keys: $S3_TEST_ACCESS_KEY / $S3_TEST_SECRET_KEY (never on the command line).
// Prints "ready PORT STSPORT" when listening. Loopback only.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const querystring = require('querystring');
const S3rver = require('s3rver');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const Sha256 = Hash.bind(null, 'sha256');

function args() {
  const a = { buckets: [], port: 9000, stsPort: 0, dir: '', log: '', tlsPort: 0, tlsCert: '', tlsKey: '' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    const k = v[i], val = v[++i];
    if (k === '--dir') a.dir = val;
    else if (k === '--port') a.port = Number(val);
    else if (k === '--sts-port') a.stsPort = Number(val);
    else if (k === '--bucket') a.buckets.push(val);
    else if (k === '--log') a.log = val;
    else if (k === '--tls-port') a.tlsPort = Number(val);
    else if (k === '--tls-cert') a.tlsCert = val;
    else if (k === '--tls-key') a.tlsKey = val;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.dir) throw new Error('--dir is required');
  return a;
}

const opt = args();
// s3rver looks the key id up in its own registry after us: keep both in step.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
const keys = new Map(); // access key id -> { secret, token, expires }
function addKey(ak, k) {
  keys.set(ak, k);
  DUMMY_ACCOUNT.createKeyPair(ak, k.secret);
}
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
if (process.env.S3_TEST_ACCESS_KEY)
  addKey(process.env.S3_TEST_ACCESS_KEY, { secret: process.env.S3_TEST_SECRET_KEY });
const logFd = opt.log ? fs.openSync(opt.log, 'a') : -1;
const log = line => logFd >= 0 && fs.writeSync(logFd, line + '\n');

function xmlEscape(s) {
  return String(s).replace(/[<>&"']/g, c => `&#${c.charCodeAt(0)};`);
}

function sendError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${xmlEscape(message)}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return false;
}

// RFC 3986 unreserved characters stay, everything else is %XX (as SigV4 wants).
const escapeUri = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function canonicalPath(raw) {
  return raw.split('/').map(seg => escapeUri(decodeURIComponent(seg))).join('/');
}

function parseQuery(raw) {
  const q = {};
  if (!raw) return q;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    q[k] = k in q ? [].concat(q[k], v) : v;
  }
  return q;
}

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/, ]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;.-]+), ?Signature=([0-9a-f]{64})$/;

// Verify the request's SigV4 signature; answers the error itself and returns false if bad.
async function verify(req, res) {
  const auth = req.headers.authorization;
  if (!auth) return sendError(res, 403, 'AccessDenied', 'Anonymous access is forbidden here');
  const m = AUTH_RE.exec(auth);
  if (!m) return sendError(res, 400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
  const [, ak, scopeDate, region, service, signedHeaders, signature] = m;
  const key = keys.get(ak);
  if (!key) return sendError(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (key.token !== undefined) {
    if (req.headers['x-amz-security-token'] !== key.token)
      return sendError(res, 403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    if (Date.now() > key.expires) return sendError(res, 400, 'ExpiredToken', 'The provided token has expired.');
  }
  const date = parseAmzDate(req.headers['x-amz-date']);
  if (!date || req.headers['x-amz-date'].slice(0, 8) !== scopeDate || service !== 's3')
    return sendError(res, 403, 'AccessDenied', 'bad x-amz-date or credential scope');
  if (Math.abs(Date.now() - date) > 15 * 60 * 1000)
    return sendError(res, 403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  if (!/^(UNSIGNED-PAYLOAD|[0-9a-f]{64})$/.test(req.headers['x-amz-content-sha256'] || ''))
    return sendError(res, 400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const signed = signedHeaders.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-content-sha256'))
    return sendError(res, 403, 'AccessDenied', 'host and x-amz-content-sha256 must be signed');
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return sendError(res, 403, 'SignatureDoesNotMatch', `signed header ${h} is missing`);
    headers[h] = req.headers[h];
  }
  const q = req.url.indexOf('?');
  const request = {
    method: req.method,
    protocol: 'http:',
    hostname: req.headers.host,
    path: canonicalPath(q < 0 ? req.url : req.url.slice(0, q)),
    query: parseQuery(q < 0 ? '' : req.url.slice(q + 1)),
    headers,
  };
  const signer = new SignatureV4({
    credentials: { accessKeyId: ak, secretAccessKey: key.secret },
    region, service, sha256: Sha256, uriEscapePath: false, applyChecksum: false,
  });
  const out = await signer.sign(request, { signingDate: date, signableHeaders: new Set(signed) });
  const want = /SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(out.headers.authorization);
  if (!want || want[1] !== signedHeaders || want[2] !== signature)
    return sendError(res, 403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  return true;
}

const s3 = new S3rver({ directory: opt.dir, silent: true, configureBuckets: opt.buckets.map(name => ({ name })) });
const store = s3.store;
const s3handler = s3.callback();

function splitPath(url) {
  const p = url.split('?')[0].split('/').slice(1).map(decodeURIComponent);
  return { bucket: p[0], key: p.slice(1).join('/') };
}

// ListMultipartUploads over s3rver's uploads directory (one page: enough for tests).
function listUploads(req, res, bucket, q) {
  const dir = store.getResourcePath(bucket, undefined, 'uploads');
  let ids = [];
  try { ids = fs.readdirSync(dir); } catch (e) { /* none yet */ }
  let items = '';
  for (const id of ids) {
    let key;
    try { key = fs.readFileSync(path.join(dir, id, 'key'), 'utf8'); } catch (e) { continue; }
    if (!key.startsWith(q.prefix || '')) continue;
    items += `<Upload><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId></Upload>`;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Bucket>${xmlEscape(bucket)}</Bucket><IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`;
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function abortUpload(req, res, bucket, id) {
  const dir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), id);
  if (!/^[0-9a-f]+$/.test(id) || !fs.existsSync(dir)) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  fs.rmSync(dir, { recursive: true, force: true });
  res.writeHead(204);
  res.end();
}

// Hash the body as s3rver reads it; on a mismatch turn the answer into S3's error.
function checkPayload(req, res, declared) {
  const h = crypto.createHash('sha256');
  let mismatch = false;
  const pipe = req.pipe.bind(req);
  req.pipe = (dest, o) => {
    const { Transform } = require('stream');
    const t = new Transform({
      transform(chunk, enc, cb) { h.update(chunk); cb(null, chunk); },
      flush(cb) { mismatch = h.digest('hex') !== declared; cb(); },
    });
    pipe(t);
    return t.pipe(dest, o);
  };
  const end = res.end.bind(res);
  res.end = (...a) => {
    if (!mismatch || res.headersSent) return end(...a);
    const { bucket, key } = splitPath(req.url);
    log(`MISMATCH ${req.method} ${req.url}`);
    if (!req.url.includes('uploadId=')) store.deleteObject(bucket, key).catch(() => {});
    res.removeHeader('ETag');
    return sendError(res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  };
}

// Transient faults on demand: every Nth part upload ($FAULT_PARTS) or data
// download ($FAULT_GETS) is answered 503 SlowDown, as a busy S3 does.
// $FAULT_PART_HOLD_MS: a part upload is held that long (logged "HOLD") before
// s3rver begins it, as a busy S3 may begin a part after the client gave up
// on it; s3rver then re-creates an upload that was aborted meanwhile.
const faults = { parts: Number(process.env.FAULT_PARTS || 0), gets: Number(process.env.FAULT_GETS || 0), n: {} };
const partHoldMs = Number(process.env.FAULT_PART_HOLD_MS || 0);
function fault(kind) {
  if (!faults[kind]) return false;
  faults.n[kind] = (faults.n[kind] || 0) + 1;
  return faults.n[kind] % faults[kind] === 0;
}

async function handle(req, res) {
  res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode}`));
  if (!(await verify(req, res))) return;
  const { bucket, key } = splitPath(req.url);
  const q = parseQuery(req.url.split('?')[1]);
  if ((req.method === 'PUT' && 'partNumber' in q && fault('parts')) ||
      (req.method === 'GET' && key.includes('/data/') && fault('gets')))
    return sendError(res, 503, 'SlowDown', 'Please reduce your request rate.');
  if (req.method === 'PUT' && 'partNumber' in q && partHoldMs) {
    log(`HOLD ${req.method} ${req.url}`);
    await new Promise(r => setTimeout(r, partHoldMs));
  }
  if (req.method === 'GET' && !key && 'uploads' in q) return listUploads(req, res, bucket, q);
  if (req.method === 'DELETE' && key && 'uploadId' in q) return abortUpload(req, res, bucket, q.uploadId);
  const declared = req.headers['x-amz-content-sha256'];
  if (req.method === 'PUT' && /^[0-9a-f]{64}$/.test(declared)) checkPayload(req, res, declared);
  s3handler(req, res);
}

// STS AssumeRoleWithWebIdentity (https://docs.aws.amazon.com/STS/latest/APIReference/).
function stsError(res, status, code, message) {
  const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
    `<Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;
  res.writeHead(status, { 'Content-Type': 'text/xml' });
  res.end(body);
}

function sts(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', c => { body += c; if (body.length > 1 << 20) req.destroy(); });
  req.on('end', () => {
    const f = querystring.parse(body);
    log(`STS ${f.Action} ${f.RoleArn}`);
    if (req.method !== 'POST' || f.Action !== 'AssumeRoleWithWebIdentity' || f.Version !== '2011-06-15')
      return stsError(res, 400, 'InvalidAction', 'Could not find operation');
    let want = '';
    try { want = fs.readFileSync(process.env.STS_TOKEN_FILE, 'utf8').trim(); } catch (e) { /* no token: refuse */ }
    if (!want || f.WebIdentityToken !== want)
      return stsError(res, 400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider');
    if (f.RoleArn !== process.env.STS_ROLE_ARN || !/^[\w+=,.@-]{2,64}$/.test(f.RoleSessionName || ''))
      return stsError(res, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const ak = 'ASIA' + crypto.randomBytes(8).toString('hex').toUpperCase();
    const secret = crypto.randomBytes(30).toString('base64');
    const token = crypto.randomBytes(900).toString('base64'); // as long as AWS's
    const duration = Number(process.env.STS_DURATION || 3600);
    const expires = Date.now() + duration * 1000;
    addKey(ak, { secret, token, expires });
    // Tests check that none of these ever shows in rawcap's output.
    if (process.env.STS_ISSUED) fs.appendFileSync(process.env.STS_ISSUED, `${secret}\n${token}\n`);
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
      `<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${ak}</AccessKeyId>` +
      `<SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken>` +
      `<Expiration>${new Date(expires).toISOString()}</Expiration></Credentials>` +
      `<SubjectFromWebIdentityToken>system:serviceaccount:rawcap:rawcap</SubjectFromWebIdentityToken>` +
      `<AssumedRoleUser><Arn>${xmlEscape(f.RoleArn)}/${xmlEscape(f.RoleSessionName)}</Arn><AssumedRoleId>AROA:${xmlEscape(f.RoleSessionName)}</AssumedRoleId></AssumedRoleUser>` +
      `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata>` +
      `</AssumeRoleWithWebIdentityResponse>`);
  });
}

async function main() {
  await s3.configureBuckets();
  const onRequest = (req, res) => handle(req, res).catch(e => {
    log(`ERROR ${e.stack}`);
    if (!res.headersSent) sendError(res, 500, 'InternalError', 'internal error');
  });
  const server = http.createServer(onRequest);
  if (opt.tlsPort) {
    const tls = https.createServer({ cert: fs.readFileSync(opt.tlsCert), key: fs.readFileSync(opt.tlsKey) }, onRequest);
    await new Promise(r => tls.listen(opt.tlsPort, '127.0.0.1', r));
  }
  server.keepAliveTimeout = 30000;
  await new Promise(r => server.listen(opt.port, '127.0.0.1', r));
  let stsPort = 0;
  if (opt.stsPort) {
    const s = http.createServer(sts);
    await new Promise(r => s.listen(opt.stsPort, '127.0.0.1', r));
    stsPort = s.address().port;
  }
  console.log(`ready ${server.address().port} ${stsPort}`);
}

main().catch(e => { console.error(e.stack); process.exit(1); });
