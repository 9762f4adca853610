// Runs one exec or attach session between a client transport (WebSocket channels or SPDY streams)
// and the node's StreamSession, independent of the wire format: stdin in, stdout and stderr out,
// terminal resizes, and the final Status on the error channel once the output has been delivered.
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StreamSession, TerminalSize } from '../../streaming/types.ts';
import { errorStatus, exitCodeStatus, SUCCESS, type Status } from './status.ts';
import { log } from '../../util/log.ts';

/** The client's end of a session, as a transport presents it. */
export interface ClientStreams {
  /** Bytes the client sends to the process; ends when the client closes its stdin. */
  stdin?: Readable;
  /** Ending these tells the client that stream is complete (where the protocol can say so). */
  stdout?: Writable;
  stderr?: Writable;
  /** Registers the handler for terminal size changes. */
  onResize(handler: (size: TerminalSize) => void): void;
  /** Registers the handler for the client going away before the session ended. */
  onGone(handler: () => void): void;
  /** Sends the final status on the error channel. */
  writeStatus(status: Status): Promise<void>;
  /** Ends the connection after the status. */
  finish(): void;
}

/**
 * Starts the node's session and connects it to the client. `command` names the command in the
 * exit-code message (empty for attach).
 */
export async function runSession(client: ClientStreams, start: () => Promise<StreamSession>, command: string[]): Promise<void> {
  let session: StreamSession | undefined;
  let gone = false;
  client.onGone(() => {
    gone = true;
    session?.abort();
  });
  try {
    session = await start();
  } catch (err) {
    client.stdin?.resume();
    if (!gone) await finish(client, errorStatus(err));
    return;
  }
  if (gone) {
    session.abort();
    return;
  }
  const s = session;
  if (s.resize) client.onResize((size) => s.resize!(size));
  if (client.stdin) {
    if (s.stdin) {
      // The process may exit while the client still writes: those bytes have nowhere to go.
      s.stdin.on('error', () => {});
      client.stdin.pipe(s.stdin);
    } else {
      client.stdin.resume();
    }
  }
  const outputs = [deliver(s.stdout, client.stdout), deliver(s.stderr, client.stderr)];
  let status: Status;
  try {
    const code = await s.exit;
    await Promise.all(outputs);
    status = code === 0 ? SUCCESS : exitCodeStatus(command, code);
  } catch (err) {
    status = errorStatus(err);
  }
  if (gone) return;
  await finish(client, status);
}

async function finish(client: ClientStreams, status: Status): Promise<void> {
  try {
    await client.writeStatus(status);
  } catch (err) {
    log('debug', 'apiserver', 'could not send the exec status', { error: String(err) });
  }
  client.finish();
}

/** Copies one output stream to the client; settles when it is all handed over (or cannot be). */
async function deliver(from: Readable | undefined, to: Writable | undefined): Promise<void> {
  if (!from) {
    to?.end();
    return;
  }
  if (!to) {
    from.resume();
    return;
  }
  try {
    await pipeline(from, to);
  } catch {
    // The client went away, or the node's stream failed: the session's status says which.
  }
}
