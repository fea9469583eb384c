// A minimal WebSocket server side (RFC 6455) for the event stream: the server sends text
// frames; from the client it only honours ping and close. No dependency, no extensions.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class EventSocket {
  private closed = false;
  private buf = Buffer.alloc(0);

  constructor(
    private readonly socket: Duplex,
    onClose: () => void,
  ) {
    socket.on('data', (d: Buffer) => this.read(d));
    socket.on('close', () => {
      this.closed = true;
      onClose();
    });
    socket.on('error', () => socket.destroy());
  }

  /** Completes the handshake for a checked upgrade request; null when it is not a WebSocket. */
  static accept(req: IncomingMessage, socket: Duplex, onClose: () => void): EventSocket | null {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13' || !/websocket/i.test(req.headers.upgrade ?? '')) {
      return null;
    }
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    return new EventSocket(socket, onClose);
  }

  send(text: string): void {
    if (!this.closed) this.socket.write(frame(0x1, Buffer.from(text, 'utf8')));
  }

  close(): void {
    if (this.closed) return;
    this.socket.end(frame(0x8, Buffer.alloc(0)));
    this.closed = true;
  }

  private read(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (this.buf.length > 1 << 20) return void this.socket.destroy(); // clients send nothing big
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0] & 0x0f;
      let len = this.buf[1] & 0x7f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= this.buf[maskOff + (i & 3)];
      this.buf = this.buf.subarray(off + len);
      if (op === 0x8) {
        this.close();
        return;
      }
      if (op === 0x9 && !this.closed) this.socket.write(frame(0xa, payload));
    }
  }
}

function frame(op: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | op;
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}
