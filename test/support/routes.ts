import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';

export interface RouteRef {
  method: string;
  /** A concrete path (path parameters filled in). */
  path: string;
  /** Tagged `operations` in the OpenAPI output (open without a key, except the dashboard's /stats routes). */
  operational: boolean;
}

/** The WebSocket chat route (added when the OpenAPI output leaves WebSocket routes out). */
export const WEBSOCKET_ROUTE: RouteRef = { method: 'GET', path: '/v1/chat/ws', operational: false };

/**
 * Every route the server serves, from its own OpenAPI output (plus the WebSocket route), with path
 * parameters filled in: a route added later is covered without editing the tests.
 */
export async function documentedRoutes(url: string, headers: Record<string, string> = {}): Promise<RouteRef[]> {
  const spec = (await (await fetch(`${url}/docs/json`, { headers })).json()) as {
    paths: Record<string, Record<string, { tags?: string[] }>>;
  };
  const routes: RouteRef[] = [];
  for (const [template, operations] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      routes.push({
        method: method.toUpperCase(),
        path: template.replace(/\{[^}]+\}/g, 'some-id'),
        operational: op.tags?.includes('operations') ?? false,
      });
    }
  }
  if (!routes.some((r) => r.path === WEBSOCKET_ROUTE.path)) routes.push(WEBSOCKET_ROUTE);
  return routes;
}

/**
 * Spellings of one path an attacker would try to slip past a prefix check: percent-encoded
 * letters and digits (one, all), doubled slashes, dot segments, mixed case, a trailing slash.
 */
export function pathVariants(path: string): string[] {
  const encode = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  const segments = path.split('/');
  return [
    path.replace(/[a-z0-9]/, encode),
    path.replace(/[a-z0-9]/, (c) => encode(c).toUpperCase()),
    path.replace(/\d/, encode),
    path.replace(/[a-z0-9]/g, encode),
    `/${path}`,
    path.replaceAll('/', '//'),
    `/.${path}`,
    `/x/..${path}`,
    `${segments.slice(0, 2).join('/')}/.${segments.length > 2 ? '/' : ''}${segments.slice(2).join('/')}`,
    path.toUpperCase(),
    path.replace(/[a-z]/, (c) => c.toUpperCase()),
    `${path}/`,
    `${path}?`,
    `${path}%2f`,
  ];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** True when the server switched protocols (a WebSocket handshake succeeded). */
  upgraded: boolean;
}

/** Sends the path exactly as written (fetch would normalise dot segments and slashes). */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; websocket?: boolean } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    // Node sends a DELETE or GET body with neither length nor chunking: the server would read it as the next request.
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  if (options.websocket) {
    Object.assign(headers, {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    });
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), upgraded: false }));
      res.on('error', reject);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: '', upgraded: true });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Writes `bytes` on a fresh TCP connection and reads until the server closes it: for requests no
 * HTTP client would send (a bad request line, bad headers, bad chunked framing). Returns the
 * status and the body of the (first) response.
 */
export function rawExchange(url: string, bytes: string): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The server may reset after answering (it closes with the rest of our bytes unread): what came counts.
    socket.on('error', (err) => (chunks.length > 0 ? undefined : reject(err)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, end), body: text.slice(end + 4) });
    });
  });
}
