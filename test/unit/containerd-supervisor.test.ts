// The own containerd's pure decisions: its file layout, its config, the CAP_SYS_RESOURCE check,
// restart back-off, what to do with what earlier clusters left, and which runtime `up` picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerdConfigToml, containerdLayout, lacksSysResource, restartDelayMs } from '../../src/agent/containerd-supervisor/config.ts';
import { leftoverAction, type ContainerdRecord } from '../../src/agent/containerd-supervisor/leftovers.ts';
import { importedNames } from '../../src/agent/images/import.ts';
import { chooseRuntime } from '../../src/cli/runtime-choice.ts';

test('everything lives under <data-dir>/containerd while the socket path fits', () => {
  const l = containerdLayout('/home/u/.ordinal');
  assert.equal(l.socket, '/home/u/.ordinal/containerd/containerd.sock');
  assert.equal(l.state, '/home/u/.ordinal/containerd/state');
  assert.equal(l.root, '/home/u/.ordinal/containerd/root');
  assert.equal(l.cniConfDir, '/home/u/.ordinal/containerd/cni/net.d');
  assert.equal(l.log, '/home/u/.ordinal/containerd/containerd.log');
});

test('a data dir too long for a unix socket moves socket and state to /run/ordinal/<hash>', () => {
  const long = '/srv/' + 'x'.repeat(90);
  const l = containerdLayout(long);
  assert.match(l.socket, /^\/run\/ordinal\/[0-9a-f]{12}\/containerd\.sock$/);
  assert.equal(l.state, l.socket.replace('containerd.sock', 'state'));
  assert.ok(Buffer.byteLength(l.socket + '.ttrpc') <= 107);
  assert.equal(l.root, `${long}/containerd/root`, 'the root (images, snapshots) stays in the data dir');
  assert.equal(containerdLayout(long).socket, l.socket, 'stable for a data dir');
  assert.notEqual(containerdLayout(long + 'y').socket, l.socket);
});

test('restrict_oom_score_adj follows CAP_SYS_RESOURCE (bit 24) of CapEff', () => {
  assert.equal(lacksSysResource('Name:\tnode\nCapEff:\t000001fffeffffff\n'), true);
  assert.equal(lacksSysResource('CapEff:\t000001ffffffffff\n'), false);
  assert.equal(lacksSysResource('CapEff:\t0000000000000000\n'), true);
  assert.equal(lacksSysResource('no caps line'), true);
});

test('the config names the paths, the sandbox image, the CNI dirs and the oom setting', () => {
  const layout = containerdLayout('/d');
  const toml = containerdConfigToml({ layout, sandboxImage: 'ordinal.dev/pause:1', cniBinDir: '/usr/lib/cni', restrictOomScoreAdj: true });
  assert.match(toml, /^version = 2$/m);
  assert.match(toml, /^root = "\/d\/containerd\/root"$/m);
  assert.match(toml, /^state = "\/d\/containerd\/state"$/m);
  assert.match(toml, /\[grpc\]\n  address = "\/d\/containerd\/containerd.sock"/);
  assert.match(toml, /sandbox_image = "ordinal.dev\/pause:1"/);
  assert.match(toml, /restrict_oom_score_adj = true/);
  assert.match(toml, /bin_dir = "\/usr\/lib\/cni"\n    conf_dir = "\/d\/containerd\/cni\/net.d"/);
  assert.match(toml, /Root = "\/d\/containerd\/runc"/);
  assert.match(toml, /SystemdCgroup = false/);
  assert.match(containerdConfigToml({ layout, sandboxImage: 'p', cniBinDir: '/x', restrictOomScoreAdj: false }), /restrict_oom_score_adj = false/);
});

test('restarts back off from 1 s to 30 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20].map(restartDelayMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('what an earlier containerd gets: left to a live owner, taken over on our data dir, ended when it clashes', () => {
  const rec: ContainerdRecord = { socket: '/a/containerd/containerd.sock', config: '/a/containerd/config.toml', state: '/a/containerd/state', dataDir: '/a', bridge: 'ordinal0', ownerPid: 10, ownerStart: 5 };
  const now = { socket: '/b/containerd/containerd.sock', bridge: 'ordinal0', dataDirExists: true };
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: true }), 'leave');
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: true, socket: rec.socket }), 'conflict');
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: false, socket: rec.socket }), 'take-over');
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: false }), 'end', 'same bridge: its addresses would be handed out again');
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: false, bridge: 'other0' }), 'keep');
  assert.equal(leftoverAction(rec, { ...now, ownerAlive: false, bridge: 'other0', dataDirExists: false }), 'end', 'data dir gone: nobody can ever adopt them');
});

test('ctr import output gives the imported names', () => {
  const out = 'unpacking docker.io/library/busybox:1.28 (sha256:0123abcd)...done\nunpacking registry.k8s.io/nginx-slim:0.8 (sha256:99ff)...done\n';
  assert.deepEqual(importedNames(out), ['docker.io/library/busybox:1.28', 'registry.k8s.io/nginx-slim:0.8']);
});

test('runtime choice: flags first, then an own containerd where it can run, else sim with a hint', () => {
  assert.deepEqual(chooseRuntime({ flag: 'sim', socketExists: false }), { runtime: 'sim', why: 'chosen with --runtime sim (no containers; lifecycles are simulated)' });
  assert.match((chooseRuntime({ flag: 'docker', socketExists: false }) as { error: string }).error, /unknown --runtime docker/);
  const given = chooseRuntime({ socket: '/run/containerd/containerd.sock', socketExists: true });
  assert.ok('runtime' in given && given.runtime === 'containerd' && given.socket === '/run/containerd/containerd.sock');
  assert.match((chooseRuntime({ socket: '/nope.sock', socketExists: false }) as { error: string }).error, /--containerd-socket \/nope.sock does not exist/);
  const own = chooseRuntime({ socketExists: false });
  assert.ok('runtime' in own && own.runtime === 'containerd' && own.socket === undefined);
  assert.match(own.why, /its own containerd/);
  const sim = chooseRuntime({ socketExists: false, ownUnavailable: 'containerd not installed' });
  assert.ok('runtime' in sim && sim.runtime === 'sim');
  assert.match(sim.why, /containerd not installed.*apt-get install containerd runc containernetworking-plugins/);
  assert.match((chooseRuntime({ flag: 'containerd', socketExists: false, ownUnavailable: 'real containers need root' }) as { error: string }).error, /--runtime containerd: real containers need root/);
});
