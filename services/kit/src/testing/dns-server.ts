/**
 * A DNS server on 127.0.0.1 (UDP) that answers the way a test says: with
 * addresses, NXDOMAIN or SERVFAIL, never, or when the test lets it. Speaks
 * just enough of RFC 1035 for A and AAAA questions.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { isIP } from 'node:net';
import { ipv6Bytes } from '../special-addresses.ts';

export interface DnsQuestion {
  name: string;
  type: 'A' | 'AAAA' | number;
}

/** Addresses of the question's type (the others are left out), an error code, or no answer at all. */
export type DnsAnswer = { addresses: string[] } | { rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' } | 'drop';

export interface DnsServer {
  /** "127.0.0.1:port", for Resolver.setServers and CONNECTOR_DNS_SERVERS. */
  address: string;
  /** Every question asked, in order. */
  questions: DnsQuestion[];
  /** Resolves once `n` questions have been asked in all. */
  asked(n: number): Promise<void>;
  /** Resolves when `n` answers have been sent in all. */
  answered(n: number): Promise<void>;
  close(): Promise<void>;
}

const RCODE = { NXDOMAIN: 3, SERVFAIL: 2, REFUSED: 5 } as const;
const TYPES: Record<number, 'A' | 'AAAA'> = { 1: 'A', 28: 'AAAA' };

/** Starts the server; `answer` may return a promise, so a test can hold an answer until it likes. */
export async function startDnsServer(answer: (q: DnsQuestion) => DnsAnswer | Promise<DnsAnswer>): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const events = new EventEmitter();
  const questions: DnsQuestion[] = [];
  let answers = 0;
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const parsed = parseQuery(msg);
    if (!parsed) return;
    questions.push(parsed.question);
    events.emit('asked');
    void Promise.resolve(answer(parsed.question)).then((a) => {
      if (a === 'drop') return;
      socket.send(reply(msg, parsed.questionEnd, parsed.question, a), from.port, from.address, () => {
        answers += 1;
        events.emit('answered');
      });
    });
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const until = (event: string, done: () => boolean) => (done() ? Promise.resolve() : new Promise<void>((r) => {
    const check = () => {
      if (!done()) return;
      events.off(event, check);
      r();
    };
    events.on(event, check);
  }));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    questions,
    asked: (n) => until('asked', () => questions.length >= n),
    answered: (n) => until('answered', () => answers >= n),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

function parseQuery(msg: Buffer): { question: DnsQuestion; questionEnd: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at]!;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  at += 1;
  if (at + 4 > msg.length) return undefined;
  const type = msg.readUInt16BE(at);
  return { question: { name: labels.join('.').toLowerCase(), type: TYPES[type] ?? type }, questionEnd: at + 4 };
}

function reply(query: Buffer, questionEnd: number, q: DnsQuestion, a: Exclude<DnsAnswer, 'drop'>): Buffer {
  const records =
    'addresses' in a
      ? a.addresses.filter((x) => (q.type === 'A' ? isIP(x) === 4 : q.type === 'AAAA' && isIP(x) === 6))
      : [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const rd = query[2]! & 0x01;
  header[2] = 0x84 | rd; // QR, AA, RD as asked
  header[3] = 0x80 | ('rcode' in a ? RCODE[a.rcode] : 0); // RA, rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const body = records.map((address) => {
    const data = q.type === 'A' ? Buffer.from(address.split('.').map(Number)) : Buffer.from(ipv6Bytes(address)!);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name, as in the question
    rr.writeUInt16BE(q.type === 'A' ? 1 : 28, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...body]);
}
