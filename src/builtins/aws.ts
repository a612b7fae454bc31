/**
 * providers.aws.sign_req(request, config, time_ns): AWS Signature Version 4 of an http.send-style
 * request, as OPA's internal/providers/aws SignV4 computes it (canonical request from the method as
 * given, the URL's escaped path and raw query, the signed headers sorted; s3/glacier also sign
 * x-amz-content-sha256; `disable_payload_signing` signs "UNSIGNED-PAYLOAD"). The answer is the request
 * with its headers replaced by the originals plus Authorization and the x-amz-* headers.
 */
import { createHash, createHmac } from 'crypto';
import { marshal } from './encoding';
import type { Impls } from './types';
import { builtinErr, num, dataObject, getKey, hasKey, obj, Obj, typeErr, Value } from './values';

const REQUIRED = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];
/** headers a proxy may change: never signed (OPA's awsSigv4IgnoredHeaders) */
const IGNORED = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const hmac = (key: Buffer | string, msg: string) => createHmac('sha256', key).update(msg, 'utf8').digest();
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const strOf = (v: Value | undefined) => (typeof v === 'string' ? v : '');

/** Go's url.URL EscapedPath of the path as written (already-escaped text kept), and RawQuery. */
function urlParts(fn: string, raw: string): { host: string; path: string; query: string } {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(raw);
  if (!m) throw builtinErr(fn, `invalid url: ${raw}`);
  const host = m[1].replace(/^[^@]*@/, '');
  const path = m[2].replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c));
  return { host, path, query: m[3] ?? '' };
}

function signReq(req: Obj, config: Obj, timeNs: bigint): Value {
  const fn = 'providers.aws.sign_req';
  const missing = REQUIRED.filter((k) => !hasKey(config, k));
  if (missing.length) throw builtinErr(fn, `operand 2 missing required AWS config parameters(s): {${missing.map((k) => JSON.stringify(k)).join(', ')}}`);
  const invalid = REQUIRED.filter((k) => typeof config[k] !== 'string');
  if (invalid.length) throw builtinErr(fn, `operand 2 invalid values for required AWS config parameters(s): {${invalid.map((k) => JSON.stringify(k)).join(', ')}}`);
  const bad = ['method', 'url'].filter((k) => typeof getKey(req, k) !== 'string');
  if (bad.length) throw builtinErr(fn, `operand 1 invalid values for required request parameters(s): {${bad.map((k) => JSON.stringify(k)).join(', ')}}`);
  const headersIn = hasKey(req, 'headers') ? req.headers : dataObject();
  if (typeof headersIn !== 'object' || headersIn === null || Array.isArray(headersIn)) throw typeErr(fn, 0, 'object', headersIn);
  let unsigned = false;
  if (hasKey(config, 'disable_payload_signing')) {
    if (typeof config.disable_payload_signing !== 'boolean') throw builtinErr(fn, "operand 2 invalid value for 'disable_payload_signing' in AWS config");
    unsigned = config.disable_payload_signing;
  }
  const service = config.aws_service as string;
  const region = config.aws_region as string;
  const url = urlParts(fn, req.url as string);
  const body = hasKey(req, 'raw_body') ? strOf(req.raw_body) : hasKey(req, 'body') ? marshal(req.body) : '';
  const payloadHash = unsigned ? 'UNSIGNED-PAYLOAD' : sha256Hex(Buffer.from(body, 'utf8'));

  const when = new Date(Number(timeNs / 1_000_000n));
  const iso = when.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = iso.slice(0, 8);

  const awsHeaders: Record<string, string> = { host: url.host, 'x-amz-date': iso };
  if (service === 's3' || service === 'glacier') awsHeaders['x-amz-content-sha256'] = payloadHash;
  if (hasKey(config, 'aws_session_token') && strOf(config.aws_session_token) !== '') awsHeaders['x-amz-security-token'] = strOf(config.aws_session_token);

  const toSign = new Map<string, string>(Object.entries(awsHeaders));
  for (const [k, v] of Object.entries(headersIn as Obj)) if (!IGNORED.has(k.toLowerCase())) toSign.set(k.toLowerCase(), strOf(v));
  const names = [...toSign.keys()].sort();
  const canonical = [req.method as string, url.path, url.query, ...names.map((k) => `${k}:${toSign.get(k)}`), '', names.join(';'), payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSignText = `AWS4-HMAC-SHA256\n${iso}\n${scope}\n${sha256Hex(canonical)}`;
  let key = hmac('AWS4' + (config.aws_secret_access_key as string), day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, toSignText).toString('hex');

  const headersOut: Obj = dataObject();
  for (const [k, v] of Object.entries(headersIn as Obj)) headersOut[k] = strOf(v);
  headersOut.Authorization = `AWS4-HMAC-SHA256 Credential=${config.aws_access_key as string}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}`;
  Object.assign(headersOut, awsHeaders);
  const out: Obj = Object.assign(dataObject(), req);
  out.headers = headersOut;
  return out;
}

export const awsImpls: Impls = {
  'providers.aws.sign_req': ([r, c, t]) => {
    const fn = 'providers.aws.sign_req';
    // only whole seconds are signed: a double's rounding of the nanoseconds cannot change the answer
    const ns = typeof t === 'bigint' ? t : BigInt(Math.trunc(num(fn, t, 3)));
    return signReq(obj(fn, r, 1), obj(fn, c, 2), ns);
  },
};
