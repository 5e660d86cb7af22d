import { connect, type Socket } from 'node:net';

/**
 * The open loop's HTTP/1.1 client: keep-alive sockets that write a request's bytes as they are and
 * read back only the status and a `Content-Length` body.
 *
 * By hand, because the load generator must cost far less than what it measures: undici spent
 * ~0.4 ms of CPU per request here, about what a cached `/v1/infer` costs the server, so on two
 * shared cores the client's own work and garbage collection became the tail it reported.
 * autocannon is cheap but paces by connection and times from the send (coordinated omission).
 * This is what wrk2 does in C. It reads only `Content-Length` bodies: every JSON route of pronto
 * answers with one (SSE streams are the chat bench's, over undici).
 */
export class RawHttpPool {
  private readonly idle: Connection[] = [];
  private readonly waiting: Array<{ request: Buffer; settle: Settle }> = [];
  private open = 0;

  constructor(
    private readonly url: URL,
    private readonly maxConnections: number,
  ) {}

  /** A POST of `body` as JSON; resolves with the response's status once its body is read. */
  post(path: string, body: string): Promise<number> {
    const request = Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: ${this.url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return new Promise((resolve, reject) => this.send(request, { resolve, reject }));
  }

  close(): void {
    for (const connection of this.idle) connection.socket.destroy();
    this.idle.length = 0;
  }

  private send(request: Buffer, settle: Settle): void {
    const connection = this.idle.pop() ?? (this.open < this.maxConnections ? this.connect() : undefined);
    if (!connection) {
      // Every socket busy: the request waits here, and its wait counts (latency runs from its schedule).
      this.waiting.push({ request, settle });
      return;
    }
    connection.settle = settle;
    connection.socket.write(request);
  }

  private connect(): Connection {
    this.open++;
    const socket = connect({ host: this.url.hostname, port: Number(this.url.port || 80), noDelay: true });
    const connection: Connection = { socket, received: Buffer.alloc(0) };
    socket.on('data', (chunk: Buffer) => this.receive(connection, chunk));
    // A socket that fails or closes (an idle keep-alive the server ended) leaves the pool once.
    let gone = false;
    const leave = (err: Error) => {
      if (gone) return;
      gone = true;
      this.open--;
      const at = this.idle.indexOf(connection);
      if (at >= 0) this.idle.splice(at, 1);
      const pending = connection.settle;
      connection.settle = undefined;
      pending?.reject(err);
      this.next();
    };
    socket.on('error', leave);
    socket.on('close', () => leave(Object.assign(new Error('socket closed'), { name: 'ECONNRESET' })));
    return connection;
  }

  private receive(connection: Connection, chunk: Buffer): void {
    connection.received = connection.received.length === 0 ? chunk : Buffer.concat([connection.received, chunk]);
    let response: ReturnType<typeof parseResponse>;
    try {
      response = parseResponse(connection.received);
    } catch (err) {
      connection.socket.destroy(err as Error);
      return;
    }
    if (!response) return;
    connection.received = connection.received.subarray(response.length);
    const settle = connection.settle;
    connection.settle = undefined;
    this.idle.push(connection);
    settle?.resolve(response.status);
    this.next();
  }

  private next(): void {
    const waiting = this.waiting.shift();
    if (waiting) this.send(waiting.request, waiting.settle);
  }
}

interface Settle {
  resolve(status: number): void;
  reject(err: Error): void;
}

interface Connection {
  socket: Socket;
  received: Buffer;
  settle?: Settle;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** The status and whole length of the response at the start of `bytes`, once all of it is there. */
function parseResponse(bytes: Buffer): { status: number; length: number } | undefined {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const head = bytes.toString('latin1', 0, headEnd);
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match) throw new Error(`the bench's raw client reads only Content-Length bodies; got: ${head.split('\r\n')[0]}`);
  const length = headEnd + HEAD_END.length + Number(match[1]);
  if (bytes.length < length) return undefined;
  return { status: Number(head.slice(9, 12)), length };
}
