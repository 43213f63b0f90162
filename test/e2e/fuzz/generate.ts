/**
 * Requests for every operation of an OpenAPI 3.1 document, from a seeded
 * generator: a valid request, then one thing wrong with it (a field of the
 * wrong type or missing, a huge or hostile string, a bad path or query
 * parameter, a body that is not JSON or not JSON at all, a bad key). The same
 * seed makes the same requests.
 */
/** The part of JSON Schema the gateway's document uses. */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  default?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  path: string;
  params: Parameter[];
  body?: Schema;
  /** No key needed (health, docs). */
  public: boolean;
}

export interface FuzzRequest {
  op: string;
  /** What was done to the valid request. */
  kind: string;
  method: string;
  /** Already percent-encoded, sent as is. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** For a hostile string put in one field of an otherwise valid request: the 400 must name that field. */
  field?: string;
}

export interface Fixtures {
  key: string;
  /** Valid values for path parameters by name (ids that exist), and for well-known body fields. */
  ids: Record<string, string[]>;
  values: Record<string, unknown[]>;
}

/** mulberry32: small, fast and good enough to pick test cases. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const uuid = () => {
    const h = Array.from({ length: 32 }, () => int(16).toString(16)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  };
  return { next, int, pick, uuid, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

export function operations(doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: Schema }> }; security?: unknown[] }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods))
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        public: path.startsWith('/health'),
      });
  return ops;
}

// ---- hostile values ------------------------------------------------------------

/** Strings PostgreSQL, JSON, UTF-8 or a path would choke on, or that look like something else. */
export const HOSTILE_STRINGS = [
  '\0', 'a\0b', '\ud800', '\udfff', 'x\ud83d', '\udc00\ud800', '\u202e\u0627\u0644', '\u200b', '\ufeff', '\uffff\ufffe',
  'e\u0301\u0301\u0301', '😀', '\u2028\u2029', '\t\r\n', ' ', '', "'; DROP TABLE syncs; --", '${jndi:ldap://x}',
  '../../etc/passwd', '%00', '\\', '"', '<script>', '\u0085', 'null', '__proto__', '\u0001\u001f\u007f',
];
const CONTROL = ['\0', 'a\0b', '\ud800', '\udfff', 'x\ud83d', '\udc00\ud800'];

const WRONG_TYPES: unknown[] = [0, -1, 1.5, true, false, null, [], {}, [[]], { a: 1 }, '123', 'x'];

/** Number literals JSON.stringify cannot write: sent as raw text in the body. */
class Raw {
  constructor(readonly text: string) {}
}
const RAW_NUMBERS = ['1e999', '-1e999', '123456789012345678901234567890', '-0', '1.0', '0.0000001', '9007199254740993'];

function serialize(value: unknown): string {
  const raws: string[] = [];
  const json = JSON.stringify(value, (_k, v: unknown) => (v instanceof Raw ? `\u0001raw${raws.push(v.text) - 1}` : v));
  return json.replace(/"\\u0001raw(\d+)"/g, (_m, i: string) => raws[Number(i)]!);
}

const BAD_SEGMENTS = [
  'not-a-uuid', '%00', '%2F', '..%2F..%2Fv1%2Fapi-keys', '%2e%2e', 'a'.repeat(5_000), '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '%F0%9F%98%80', '%ED%A0%80', '%FF', '%', '%25', 'null', '-1', '%7Bid%7D', '%20', '%0A',
];
const BAD_QUERY = ['-1', '0', '1e309', 'abc', '99999999999999999999', '', '%00', '%ED%A0%80', '%FF', 'x'.repeat(5_000), '1.5', '%2F', 'true'];
const BAD_JSON = ['{', '{"a":', 'null', '[]', '"text"', 'true', '1', '{"a":1}}', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'];
const CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
  'application/JSON', 'application/vnd.api+json', 'application/json, text/plain', 'application/octet-stream',
];

/** Cursors that decode like ours, with values at the edges of what PostgreSQL accepts. */
const cursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');
const BAD_CURSORS = [
  'garbage', cursor('0000-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000'), cursor('9999-12-31T23:59:59.999Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  cursor('2024-02-30T00:00:00.000Z', '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b'), cursor('1970-01-01T00:00:00.000Z', 'x'), Buffer.from('[1,2]').toString('base64url'),
  Buffer.from('"\\u0000"').toString('base64url'), Buffer.from([0xff, 0xfe]).toString('base64url'),
];

// ---- valid values --------------------------------------------------------------

const first = (s: Schema): Schema => s.anyOf?.[0] ?? s.oneOf?.[0] ?? s.allOf?.[0] ?? s;
const typeOf = (s: Schema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

function valid(s0: Schema, name: string, r: Rng, fx: Fixtures): unknown {
  const s = first(s0);
  if (fx.values[name]) return r.pick(fx.values[name]!);
  if (s.const !== undefined) return s.const;
  if (s.enum) return r.pick(s.enum);
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {}))
        if (s.required?.includes(k) || r.chance(0.6)) out[k] = valid(v, k, r, fx);
      return out;
    }
    case 'array':
      return Array.from({ length: r.int(3) }, () => valid(s.items ?? {}, name, r, fx));
    case 'integer':
    case 'number':
      return s.default ?? Math.max(s.minimum ?? 0, Math.min(s.maximum ?? 100, 1 + r.int(20)));
    case 'boolean':
      return r.chance(0.5);
    case 'string':
      if (s.format === 'uuid') return r.pick(fx.ids[name] ?? [r.uuid()]);
      if (s.format === 'date-time') return new Date().toISOString();
      return `fuzz-${r.int(1e6)}`.slice(0, s.maxLength ?? 50).padEnd(s.minLength ?? 1, 'x');
    default:
      return 'x';
  }
}

/** Paths to every value of a JSON value (objects and arrays), with the schema that describes each. */
function leaves(value: unknown, s0: Schema, at: string[] = []): { path: string[]; schema: Schema }[] {
  const s = first(s0);
  const here = at.length ? [{ path: at, schema: s }] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => leaves(v, s.items ?? {}, [...at, String(i)]))];
  if (value && typeof value === 'object')
    return [...here, ...Object.entries(value).flatMap(([k, v]) => leaves(v, s.properties?.[k] ?? {}, [...at, k]))];
  return here;
}

function setAt(root: unknown, path: string[], v: unknown, remove = false): unknown {
  const copy = structuredClone(root) as Record<string, unknown>;
  let node = copy;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (remove && !Array.isArray(node)) delete node[last];
  else node[last] = v;
  return copy;
}

/** One thing wrong with a valid body value. */
function mutateBody(body: unknown, schema: Schema, r: Rng): { value: unknown; kind: string; field?: string } {
  const spots = leaves(body, schema);
  if (!spots.length || r.chance(0.1)) return { value: r.pick(WRONG_TYPES), kind: 'body: wrong type' };
  const { path, schema: s } = r.pick(spots);
  const t = typeOf(first(s));
  const field = `body.${path.join('.')}`;
  const roll = r.int(10);
  if (t === 'string' && roll < 4) {
    const str = r.pick(CONTROL);
    return { value: setAt(body, path, `ok${str}`), kind: `body: control character in ${field}`, field };
  }
  if (t === 'string' && roll < 6) {
    const max = first(s).maxLength ?? 1_000;
    const big = r.pick([max + 1, 100_000, 2_000_000]);
    return { value: setAt(body, path, r.pick(['x', 'é', '😀']).repeat(big)), kind: `body: ${big}-character ${field}` };
  }
  if (t === 'string' && roll < 8) return { value: setAt(body, path, r.pick(HOSTILE_STRINGS)), kind: `body: odd string in ${field}` };
  if ((t === 'integer' || t === 'number') && roll < 6) return { value: setAt(body, path, new Raw(r.pick(RAW_NUMBERS))), kind: `body: odd number in ${field}` };
  if (t === 'object' && roll < 6) return { value: setAt(body, path, { ...(structuredClone(getAt(body, path)) as object), [r.pick(['extra', '__proto__', 'constructor', ''])]: 1 }), kind: `body: extra field in ${field}` };
  if (t === 'array' && roll < 5) return { value: setAt(body, path, Array.from({ length: 1_001 }, () => 'x')), kind: `body: 1001 items in ${field}` };
  if (roll < 8) return { value: setAt(body, path, undefined, true), kind: `body: no ${field}` };
  return { value: setAt(body, path, r.pick(WRONG_TYPES)), kind: `body: wrong type of ${field}` };
}

function getAt(root: unknown, path: string[]): unknown {
  return path.reduce<unknown>((n, p) => (n as Record<string, unknown>)[p], root);
}

// ---- requests ------------------------------------------------------------------

const enc = (v: unknown) => encodeURIComponent(String(v));

function build(op: Operation, r: Rng, fx: Fixtures) {
  const path: Record<string, string> = {};
  const query: [string, string][] = [];
  const headers: Record<string, string> = {};
  for (const p of op.params) {
    if (p.in === 'path') path[p.name] = enc(valid(p.schema, p.name, r, fx));
    else if (p.required || r.chance(0.4)) {
      if (p.in === 'query') query.push([p.name, enc(valid(p.schema, p.name, r, fx))]);
      else if (p.name !== 'idempotency-key') headers[p.name] = String(valid(p.schema, p.name, r, fx));
      else headers[p.name] = `fuzz-${r.uuid()}`;
    }
  }
  const body = op.body ? valid(op.body, 'body', r, fx) : undefined;
  return { path, query, headers, body };
}

export function requestFor(op: Operation, r: Rng, fx: Fixtures): FuzzRequest {
  const b = build(op, r, fx);
  let kind = 'valid';
  let field: string | undefined;
  let auth: string | undefined = op.public ? undefined : `Bearer ${fx.key}`;
  let contentType: string | undefined = op.body ? 'application/json' : undefined;
  let raw: string | Buffer | undefined;
  let body = b.body;

  const pathParams = Object.keys(b.path);
  const queryParams = op.params.filter((p) => p.in === 'query');
  const roll = r.int(100);
  if (roll < 10) {
    // valid: reaches the services
  } else if (roll < 45 && op.body) {
    const m = mutateBody(body, op.body, r);
    ({ kind, field } = m);
    body = m.value;
  } else if (roll < 55 && pathParams.length) {
    const name = r.pick(pathParams);
    b.path[name] = r.pick(BAD_SEGMENTS);
    kind = `path: ${name}=${b.path[name]!.slice(0, 40)}`;
  } else if (roll < 65 && queryParams.length) {
    const p = r.pick(queryParams);
    const control = r.chance(0.3) && typeOf(first(p.schema)) === 'string' && !first(p.schema).enum;
    // A lone surrogate has no UTF-8 form to percent-encode: NUL is what a query can carry.
    const v = control ? enc(`ok${r.pick(['\0', 'a\0b'])}`) : p.name === 'cursor' && r.chance(0.5) ? r.pick(BAD_CURSORS) : r.pick(BAD_QUERY);
    b.query = b.query.filter(([k]) => k !== p.name).concat([[p.name, v]]);
    if (r.chance(0.2)) b.query.push([p.name, '2']);
    kind = `query: ${p.name}=${v.slice(0, 40)}`;
    if (control) field = `query.${p.name}`;
  } else if (roll < 72) {
    b.query.push([r.pick(['extra', 'limit[]', '__proto__', '%00', 'a'.repeat(300)]), r.pick(BAD_QUERY)]);
    kind = 'query: unknown parameter';
  } else if (roll < 82) {
    const what = r.int(4);
    if (what === 0) {
      raw = r.pick(BAD_JSON);
      kind = `body: not JSON (${JSON.stringify(raw).slice(0, 30)})`;
    } else if (what === 1) {
      contentType = r.pick(CONTENT_TYPES);
      kind = `content-type: ${contentType}`;
    } else if (what === 2) {
      raw = r.chance(0.5) ? `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}` : `${'{"__proto__":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      contentType = 'application/json';
      kind = 'body: deeply nested JSON';
    } else {
      raw = Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0xff, 0x22, 0x7d]);
      contentType = 'application/json';
      kind = 'body: invalid UTF-8';
    }
  } else if (roll < 90 && !op.public) {
    auth = r.pick([undefined, 'Bearer', 'Bearer  ', 'Basic YTpi', `Bearer sy_${'A'.repeat(32)}`, `bearer ${fx.key}`, fx.key, `Bearer ${fx.key} extra`, `Bearer ${'x'.repeat(4_000)}`, 'Bearer sy_é']);
    kind = `authorization: ${String(auth).slice(0, 20)}`;
  } else if (roll < 95) {
    const value = r.pick(['', ' ', 'x'.repeat(300), 'é\u00ff', '\t', 'a b']);
    b.headers['idempotency-key'] = value;
    kind = `header: idempotency-key of ${value.length}`;
  } else {
    raw = r.chance(0.5) ? Buffer.alloc(1_200_000, 0x20) : '';
    contentType = r.pick(['application/json', undefined]);
    kind = `body: ${raw.length} bytes on ${op.method}`;
  }

  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => b.path[name] ?? '');
  const qs = b.query.map(([k, v]) => `${k}=${v}`).join('&');
  const headers: Record<string, string> = { ...b.headers };
  if (auth !== undefined) headers.authorization = auth;
  const payload = raw ?? (body === undefined ? undefined : serialize(body));
  if (payload !== undefined && contentType) headers['content-type'] = contentType;
  return { op: `${op.method} ${op.path}`, kind, method: op.method, path: qs ? `${path}?${qs}` : path, headers, body: payload, field };
}
