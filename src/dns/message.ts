// From a query message to the response message: header flags, the EDNS record, the rules for
// malformed or unsupported queries, and truncation to what a UDP client can take. Pure, so the
// whole wire behaviour but the sockets is testable.
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import type { ClusterView } from './cluster-index.ts';
import { answerQuestion, DEFAULT_ANSWER_CONFIG, type AnswerConfig, type Rcode } from './answer.ts';

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** UDP payload size we offer with EDNS (the DNS flag day 2020 value, safe from fragmentation). */
export const EDNS_UDP_SIZE = 1232;
const PLAIN_UDP_SIZE = 512;

export interface Response {
  packet: Packet;
  rcode: Rcode;
  /** The question type, for metrics ('' when there was none). */
  qtype: string;
}

type Decoded = DecodedPacket & { opcode?: string };

function header(query: Decoded, rcode: Rcode, aa: boolean): number {
  let flags = RCODES[rcode];
  if (aa) flags |= dnsPacket.AUTHORITATIVE_ANSWER;
  // RD is echoed; RA stays clear: we answer only for our zones and never recurse.
  if (query.flag_rd) flags |= dnsPacket.RECURSION_DESIRED;
  return flags;
}

const ednsOf = (query: Decoded) => query.additionals?.find((a) => a.type === 'OPT') as (Answer & { udpPayloadSize?: number }) | undefined;

/** The response to a decoded query, or null when the message is not a query at all. */
export function respond(view: ClusterView, query: Decoded, cfg: AnswerConfig = DEFAULT_ANSWER_CONFIG): Response | null {
  if (query.type === 'response') return null;
  const edns = ednsOf(query);
  const additionalsOpt: Answer[] = edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const questions = query.questions ?? [];
  const base = { type: 'response' as const, id: query.id, questions };
  const fail = (rcode: Rcode): Response => ({
    packet: { ...base, flags: header(query, rcode, false), answers: [], authorities: [], additionals: additionalsOpt },
    rcode,
    qtype: questions[0]?.type ?? '',
  });
  if (query.opcode && query.opcode !== 'QUERY') return fail('NOTIMP');
  if (questions.length !== 1) return fail('FORMERR');
  const reply = answerQuestion(view, questions[0], cfg);
  return {
    packet: {
      ...base,
      flags: header(query, reply.rcode, reply.authoritative),
      answers: reply.answers,
      authorities: reply.authorities,
      additionals: [...reply.additionals, ...additionalsOpt],
    },
    rcode: reply.rcode,
    qtype: questions[0].type,
  };
}

/** The largest UDP response the asker accepts: 512 bytes, or what its EDNS record offers (capped at ours). */
export function udpLimit(query: Decoded): number {
  const size = ednsOf(query)?.udpPayloadSize ?? 0;
  return Math.max(PLAIN_UDP_SIZE, Math.min(size, EDNS_UDP_SIZE));
}

// dns-packet's record codec, which its type declarations leave out: used to encode records one by
// one so their owner names can be compressed.
const codec = dnsPacket as unknown as {
  answer: { encode(a: Answer): Buffer };
  name: { encodingLength(n: string): number };
};

const sameName = (a: string, b: string) => a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/**
 * dnsPacket.encode, with the one name compression that matters here: records owned by the
 * question's name point back at it (RFC 1035 4.1.4) instead of repeating it. dns-packet writes
 * names in full, which would make a headless service's answers twice as long and truncate them
 * for plain 512-byte UDP clients long before they need to be.
 */
export function encodePacket(packet: Packet): Buffer {
  const q = packet.questions?.length === 1 ? packet.questions[0] : undefined;
  if (!q || q.name.replace(/^\.|\.$/g, '') === '') return dnsPacket.encode(packet);
  const sections = [packet.answers ?? [], packet.authorities ?? [], packet.additionals ?? []];
  const head = dnsPacket.encode({ ...packet, answers: [], authorities: [], additionals: [] });
  const parts: Buffer[] = [head];
  for (const rr of sections.flat()) {
    const bytes = codec.answer.encode(rr);
    if (rr.type === 'OPT' || !sameName(rr.name, q.name)) {
      parts.push(bytes);
      continue;
    }
    // The question name starts right after the 12-byte header.
    parts.push(Buffer.from([0xc0, 0x0c]), bytes.subarray(codec.name.encodingLength(rr.name)));
  }
  sections.forEach((rrs, i) => head.writeUInt16BE(rrs.length, 6 + 2 * i));
  return Buffer.concat(parts);
}

/**
 * Encodes a response to fit `limit` bytes: first without the optional additional records, then
 * with the TC flag and no records at all, which tells the client to ask again over TCP.
 */
export function encodeWithin(packet: Packet, limit: number): Buffer {
  const full = encodePacket(packet);
  if (full.length <= limit) return full;
  const opt = (packet.additionals ?? []).filter((a) => a.type === 'OPT');
  const lean = encodePacket({ ...packet, additionals: opt });
  if (lean.length <= limit) return lean;
  return encodePacket({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
}

/**
 * A FORMERR reply for bytes that would not decode, when at least the header's id is readable
 * (a client then gets an answer rather than a timeout); null for anything shorter.
 */
export function formatError(raw: Buffer): Buffer | null {
  if (raw.length < 12) return null;
  const flags = raw.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response: never answer those
  return dnsPacket.encode({ type: 'response', id: raw.readUInt16BE(0), flags: RCODES.FORMERR | (flags & dnsPacket.RECURSION_DESIRED), questions: [], answers: [], authorities: [], additionals: [] });
}
