import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { BACNET_PORT } from './config.js';

/** What @bacnet-js/client's own transport reports: the largest BACnet/IP frame. */
const MAX_PAYLOAD = 1482;

/** `host[:port]` as host and port (47808 when absent). */
export function parseAddress(address: string): { host: string; port: number } {
  const [host = '', port] = address.split(':');
  return { host, port: port === undefined ? BACNET_PORT : Number(port) };
}

/**
 * The UDP transport handed to BACnetClient. The library's own binds port 0 as 47808 and names a peer on 47808
 * without its port (which its request handler then drops as "localhost" on loopback); this one binds any port
 * (0 picks a free one), never shares it (reuseAddr off: a clash fails at startup, not silently), always names
 * peers `ip:port`, the form device addresses are configured in, and turns a datagram the library throws on into a
 * `malformed` event instead of an uncaught exception.
 */
export class UdpTransport extends EventEmitter {
  private readonly socket: Socket;
  private isOpen = false;

  constructor(
    private readonly port: number,
    private readonly bindAddress: string,
  ) {
    super();
    this.socket = createSocket({ type: 'udp4', reuseAddr: false });
    this.socket.on('message', (msg, rinfo) => {
      const from = `${rinfo.address}:${rinfo.port}`;
      try {
        this.emit('message', msg, from);
      } catch (err) {
        // the library decodes in this listener and throws on some malformed frames: anyone can send one
        this.emit('malformed', err, from);
      }
    });
    this.socket.on('listening', () => this.emit('listening', this.socket.address()));
    this.socket.on('error', (err) => this.emit('error', err));
    this.socket.on('close', () => this.emit('close'));
  }

  /** The bound port (the chosen one when configured as 0). */
  get localPort(): number {
    return this.socket.address().port;
  }

  getBroadcastAddress(): string {
    return '255.255.255.255';
  }

  getMaxPayload(): number {
    return MAX_PAYLOAD;
  }

  send(buffer: Buffer, offset: number, receiver?: string): void {
    if (!receiver || !this.isOpen) return; // the bridge never broadcasts; after close there is nobody to answer
    const { host, port } = parseAddress(receiver);
    this.socket.send(buffer, 0, offset, port, host, (err) => {
      if (err) this.emit('error', err);
    });
  }

  open(): void {
    this.isOpen = true;
    this.socket.bind(this.port, this.bindAddress);
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.socket.close();
  }
}
