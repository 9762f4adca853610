// The node side of exec/attach/port-forward without containerd: the CRI streaming client against
// an in-process streaming server built on our SPDY server side, the exit-code rules, and
// AgentStreaming's kubelet errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import {
  SpdyConnection,
  acceptSpdyUpgrade,
  headerValue,
  negotiateStreamProtocol,
  offeredStreamProtocols,
} from '../../src/streaming/spdy/index.ts';
import type { SpdyStream } from '../../src/streaming/spdy/index.ts';
import { exitCodeFromErrorStream, openPortForward, openRemoteCommand, StreamStatusError } from '../../src/agent/runtime/cri/streaming.ts';
import { AgentStreaming } from '../../src/agent/streaming.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import type { PodWorker } from '../../src/agent/pod-worker.ts';
import type { Runtime } from '../../src/agent/runtime/types.ts';

function readAll(r: Readable | undefined): Promise<string> {
  if (!r) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => resolve(Buffer.concat(chunks).toString()));
    r.on('error', reject);
  });
}

const nonZero = (code: number) =>
  JSON.stringify({ metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: exit status ${code}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } });

test('exit codes from the error stream', () => {
  assert.equal(exitCodeFromErrorStream('v4.channel.k8s.io', ''), 0);
  assert.equal(exitCodeFromErrorStream('v4.channel.k8s.io', '{"metadata":{},"status":"Success"}'), 0);
  assert.equal(exitCodeFromErrorStream('v4.channel.k8s.io', nonZero(3)), 3);
  assert.equal(exitCodeFromErrorStream('v3.channel.k8s.io', 'command terminated with non-zero exit code: exit status 7'), 7);
  const internal = { status: 'Failure', reason: 'InternalError', message: 'Internal error occurred: no such binary', code: 500 };
  assert.throws(
    () => exitCodeFromErrorStream('v4.channel.k8s.io', JSON.stringify(internal)),
    (e: unknown) => e instanceof StreamStatusError && e.message === internal.message && e.status?.reason === 'InternalError',
  );
  assert.throws(() => exitCodeFromErrorStream('v2.channel.k8s.io', 'something broke'), /something broke/);
});

/** A stand-in for the CRI streaming server: remotecommand on /exec, port-forward on /portforward. */
async function fakeStreamingServer(): Promise<{ url: string; close: () => void; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(404).end('not found'));
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    if (!/^\/(exec|portforward)\//.test(req.url!)) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n');
      return;
    }
    const offered = offeredStreamProtocols(req.headers);
    const forward = req.url!.startsWith('/portforward');
    const protocol = negotiateStreamProtocol(offered, forward ? ['portforward.k8s.io'] : ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    if (protocol === undefined) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n\r\nno protocol\n');
      return;
    }
    seen.push(`${req.method} ${req.url} ${protocol}`);
    acceptSpdyUpgrade(socket, protocol);
    if (head.length) socket.unshift(head);
    const conn = new SpdyConnection(socket, { server: true });
    const streams = new Map<string, SpdyStream>();
    conn.on('stream', (s) => {
      const type = headerValue(s.headers, 'streamType')!;
      streams.set(type, s);
      s.reply();
      if (forward) {
        if (streams.has('data') && streams.has('error')) {
          const port = headerValue(s.headers, 'port');
          if (port === '81') {
            streams.get('error')!.end('error forwarding port 81: connection refused');
            streams.get('data')!.end();
            return;
          }
          // An echo server behind the port, answering in upper case.
          const data = streams.get('data')!;
          readAll(data).then((text) => {
            data.end(text.toUpperCase());
            streams.get('error')!.end();
          });
        }
        return;
      }
      // exec: the command is in the URL; wait for error+stdin+stdout+stderr (+resize).
      const tty = req.url!.includes('tty');
      if (streams.size < (tty ? 3 : 4)) return;
      const error = streams.get('error')!;
      const finish = (status: string) => {
        error.write(status);
        for (const st of streams.values()) st.reset();
        conn.close();
      };
      if (tty) {
        const sizes: string[] = [];
        streams.get('resize')!.on('data', (d: Buffer) => {
          sizes.push(...d.toString().trim().split('\n'));
          if (sizes.length === 2) {
            streams.get('stdout')!.write(sizes.join(';'));
            finish('{"metadata":{},"status":"Success"}');
          }
        });
        return;
      }
      readAll(streams.get('stdin')!).then((input) => {
        streams.get('stdout')!.write(`read ${input.length} bytes`);
        streams.get('stderr')!.write('warning');
        finish(nonZero(input.length % 256));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    seen,
  };
}

test('remotecommand client: streams, stdin EOF, exit code, resize', { timeout: 20_000 }, async () => {
  const srv = await fakeStreamingServer();
  try {
    const s = await openRemoteCommand(`${srv.url}/exec/abc`, { stdin: true, stdout: true, stderr: true, tty: false });
    const out = readAll(s.stdout);
    const err = readAll(s.stderr);
    s.stdin!.end(Buffer.alloc(200_000, 1));
    assert.equal(await s.exit, 200_000 % 256);
    assert.equal(await out, 'read 200000 bytes');
    assert.equal(await err, 'warning');

    const t = await openRemoteCommand(`${srv.url}/exec/tty`, { stdin: false, stdout: true, stderr: true, tty: true });
    assert.equal(t.stderr, undefined);
    t.resize!({ width: 80, height: 24 });
    t.resize!({ width: 100, height: 30 });
    assert.equal(await readAll(t.stdout), '{"Width":80,"Height":24};{"Width":100,"Height":30}');
    assert.equal(await t.exit, 0);
    assert.deepEqual(srv.seen, ['POST /exec/abc v4.channel.k8s.io', 'POST /exec/tty v4.channel.k8s.io']);

    await assert.rejects(openRemoteCommand(`${srv.url}/nothing`, { stdin: false, stdout: true, stderr: false, tty: false }), /refused the connection: not found/);
  } finally {
    srv.close();
  }
});

test('port-forward client: data both ways, half-close, and the error stream', { timeout: 20_000 }, async () => {
  const srv = await fakeStreamingServer();
  try {
    const conn: Duplex = await openPortForward(`${srv.url}/portforward/xyz`, 8080);
    const back = readAll(conn);
    conn.end('hello port');
    assert.equal(await back, 'HELLO PORT');
    const bad = await openPortForward(`${srv.url}/portforward/xyz`, 81);
    bad.end();
    await assert.rejects(readAll(bad), /error forwarding port 81: connection refused/);
  } finally {
    srv.close();
  }
});

function fakeWorker(view: ReturnType<PodWorker['view']>): PodWorker {
  return { view: () => view } as unknown as PodWorker;
}

test('AgentStreaming answers with the kubelet errors, and without processes on the sim runtime', async () => {
  const running = { name: 'web', init: false, id: 'c1', restartCount: 0, status: { id: 'c1', state: 'running' as const, createdAt: '' } };
  const exited = { name: 'done', init: false, id: 'c2', restartCount: 0, status: { id: 'c2', state: 'exited' as const, createdAt: '', exitCode: 0 } };
  const workers = new Map([['u1', fakeWorker({ sandboxId: 's1', containers: [running, exited] })]]);
  const lookup = { podWorker: (uid: string) => workers.get(uid) };
  const pod = { namespace: 'default', name: 'web-0', uid: 'u1' };
  const io = { stdin: false, stdout: true, stderr: true, tty: false };
  const calls: string[] = [];
  const withProcesses = {
    listContainers: async (filter: { sandboxId?: string }) =>
      filter.sandboxId === 's1'
        ? [
            { id: 'c1', sandboxId: 's1', name: 'web', attempt: 0, state: 'running' },
            { id: 'c2', sandboxId: 's1', name: 'done', attempt: 0, state: 'exited' },
          ]
        : [],
    containerStatus: async (id: string) => ({ id, state: id === 'c1' ? 'running' : 'exited', createdAt: '' }),
    exec: async (id: string) => {
      calls.push(`exec ${id}`);
      return { exit: Promise.resolve(0), abort() {} };
    },
    portForward: async (sandbox: string, port: number) => {
      calls.push(`pf ${sandbox} ${port}`);
      throw new Error('dial failed');
    },
  } as unknown as Runtime;
  const node = new AgentStreaming(lookup, withProcesses);
  const isApi = (code: number, message: string) => (e: unknown) => e instanceof ApiError && e.code === code && e.message === message;
  await assert.rejects(node.exec(pod, 'nope', { ...io, command: ['ls'] }), isApi(500, 'container not found ("nope")'));
  await assert.rejects(node.exec(pod, 'done', { ...io, command: ['ls'] }), isApi(500, 'container not found ("done")'));
  await assert.rejects(node.exec({ ...pod, uid: 'other' }, 'web', { ...io, command: ['ls'] }), isApi(500, 'container not found ("web")'));
  assert.equal(await (await node.exec(pod, 'web', { ...io, command: ['ls'] })).exit, 0);
  await assert.rejects(node.portForward({ ...pod, uid: 'other' }, 80), isApi(500, 'pod not found ("web-0_default")'));
  await assert.rejects(node.portForward(pod, 80), isApi(500, 'dial failed'));
  assert.deepEqual(calls, ['exec c1', 'pf s1 80']);

  const sim = new AgentStreaming(lookup, {} as Runtime);
  await assert.rejects(sim.exec(pod, 'web', { ...io, command: ['ls'] }), (e: unknown) => e instanceof ApiError && e.code === 400 && /simulated container runtime runs no processes/.test(e.message));
  await assert.rejects(sim.attach(pod, 'web', io), (e: unknown) => e instanceof ApiError && e.code === 400);
  await assert.rejects(sim.portForward(pod, 80), (e: unknown) => e instanceof ApiError && e.code === 400 && /port-forward/.test(e.message));
});

test('exec and attach ask the runtime whether the container still runs, as the kubelet does', async () => {
  // The worker last saw both running; the runtime knows better: "quick" exited a moment ago.
  const seen = (name: string, id: string) => ({ name, init: false, id, restartCount: 0, status: { id, state: 'running' as const, createdAt: '' } });
  const worker = fakeWorker({ sandboxId: 's1', containers: [seen('quick', 'q1'), seen('shell', 'sh1'), seen('lagging', 'l1')] });
  const lookup = { podWorker: (uid: string) => (uid === 'u1' ? worker : undefined) };
  const listed: (string | undefined)[] = [];
  const attached: string[] = [];
  let listFails = false;
  const runtime = {
    listContainers: async (filter: { sandboxId?: string }) => {
      listed.push(filter.sandboxId);
      if (listFails) throw new Error('connection refused');
      return [
        { id: 'q1', sandboxId: 's1', name: 'quick', attempt: 0, state: 'exited' },
        { id: 'sh1', sandboxId: 's1', name: 'shell', attempt: 0, state: 'running' },
        // Listed as running, but its full status knows the process is gone (containerd's lag).
        { id: 'l1', sandboxId: 's1', name: 'lagging', attempt: 0, state: 'running' },
      ];
    },
    containerStatus: async (id: string) => ({ id, state: id === 'sh1' ? 'running' : 'exited', createdAt: '', exitCode: 0 }),
    exec: async () => ({ exit: Promise.resolve(0), abort() {} }),
    attach: async (id: string) => {
      attached.push(id);
      return { exit: Promise.resolve(0), abort() {} };
    },
  } as unknown as Runtime;
  const node = new AgentStreaming(lookup, runtime);
  const pod = { namespace: 'default', name: 't', uid: 'u1' };
  const io = { stdin: true, stdout: true, stderr: true, tty: false };
  const isApi = (code: number, message: string) => (e: unknown) => e instanceof ApiError && e.code === code && e.message === message;
  await assert.rejects(node.attach(pod, 'quick', io), isApi(500, 'container quick not found in pod t_default'));
  await assert.rejects(node.exec(pod, 'quick', { ...io, command: ['ls'] }), isApi(500, 'container not found ("quick")'));
  await assert.rejects(node.attach(pod, 'lagging', io), isApi(500, 'container lagging not found in pod t_default'));
  assert.equal(await (await node.attach(pod, 'shell', io)).exit, 0);
  assert.deepEqual(attached, ['sh1']);
  assert.deepEqual(listed, ['s1', 's1', 's1', 's1']);
  listFails = true;
  await assert.rejects(node.attach(pod, 'shell', io), isApi(500, 'connection refused'));
});
