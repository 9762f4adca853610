// The tutorial's throwaway DNS client: `kubectl run -i --tty --image busybox:1.28 dns-test
// --restart=Never --rm /bin/sh`, typed into under a terminal of its own. kubectl creates the pod
// with stdin and a TTY, attaches to it once it runs, and deletes it when the shell exits. The image
// is tagged 1.28 (the version upstream's DNS debugging page uses): an untagged `busybox` means
// :latest, which upstream (and we) always pull, and no registry is reachable here.
// Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fixture, kubectl, kubectlOk, waitUntil } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

test('kubectl run -i --tty --rm busybox: a shell in the cluster that looks up peers and goes away', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  let real: RealCluster | undefined;
  try {
    real = await startRealCluster();
    const { cluster } = real;
    await kubectlOk(cluster, ['create', '-f', fixture('web.yaml')]);
    await waitUntil(async () => (await kubectlOk(cluster, ['get', 'pods', '-l', 'app=nginx', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).filter(Boolean).length === 2, 40_000, () => 'web-0 and web-1 to get addresses');
    await waitUntil(async () => (await kubectl(cluster, ['get', 'pod', 'web-1', '-o', 'jsonpath={.status.containerStatuses[0].ready}'])).stdout === 'true', 30_000, () => 'web-1 Ready');
    const web0 = (await kubectlOk(cluster, ['get', 'pod', 'web-0', '-o', 'jsonpath={.status.podIP}'])).trim();

    const child = spawn('script', ['-qec', 'kubectl run -i --tty --image busybox:1.28 dns-test --restart=Never --rm /bin/sh', '/dev/null'], {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const seen = (re: RegExp, what: string) => waitUntil(() => re.test(out), 30_000, () => `${what}; the terminal shows:\n${out}\n${cluster.logs().slice(-2000)}`);
    try {
      // kubectl's hint that it is attached: from here on, keys reach the shell.
      await seen(/If you don't see a command prompt, try pressing enter\./, 'kubectl to attach');
      const pod = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'dns-test', '-o', 'json']));
      assert.equal(pod.spec.containers[0].stdin, true);
      assert.equal(pod.spec.containers[0].tty, true);
      assert.equal(pod.spec.containers[0].stdinOnce, true);
      assert.deepEqual(pod.spec.containers[0].args, ['/bin/sh']);
      child.stdin.write('nslookup web-0.nginx.default.svc.cluster.local; echo "tty is $(tty)"\r');
      await seen(new RegExp(`Address:?\\s+${web0.replace(/\./g, '\\.')}`), "web-0's address from the shell");
      await seen(/tty is \/dev\/pts\/\d+/, 'the shell on a terminal');
      child.stdin.write('exit\r');
      await seen(/pod "dns-test" deleted/, 'kubectl to delete the pod after the shell exits');
    } finally {
      clearTimeout(killer);
      child.stdin.end();
    }
    assert.equal(await exited, 0, out);
    await waitUntil(async () => (await kubectl(cluster, ['get', 'pod', 'dns-test'])).code !== 0, 20_000, () => 'dns-test to be gone');
  } finally {
    await real?.stop();
  }
});
