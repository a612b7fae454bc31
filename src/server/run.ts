/**
 * Running the PDP as a process: one server per worker (node:cluster, `workers` from config /
 * PDP_WORKERS, default the number of CPUs), each worker stateless and loading bundles itself;
 * graceful shutdown on SIGTERM/SIGINT; a crashed worker is replaced (with a brake on crash loops).
 */
import cluster from 'cluster';
import { startPdpServer, jsonLogger } from './server';
import type { PdpConfig } from './types';
import { serveClusterMetrics } from './cluster-metrics';
import { writeWorkersDecisionLogs } from './cluster-log';

const log = jsonLogger();

/** Serve in this process. Resolves when the server has stopped. */
async function serveHere(config: PdpConfig): Promise<number> {
  let started;
  try {
    started = await startPdpServer(config, { log });
  } catch (err) {
    process.stderr.write(`pdp: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const { pdp, errors } = started;
  for (const [name, err] of errors) {
    const src = config.bundles.find((b) => (b.name ?? '') === name)?.source ?? name;
    log('error', 'bundle not activated at start', { bundle: name, source: src, error: err.message });
  }
  // a local bundle that does not load at start is a configuration error: say so and stop
  const fatal = [...errors.entries()].filter(([name]) => {
    const cfg = config.bundles.find((b) => (b.name ?? defaultName(b.source)) === name);
    return cfg && !/^https?:\/\//i.test(cfg.source);
  });
  if (fatal.length > 0) {
    process.stderr.write(`pdp: cannot start: ${fatal.map(([n, e]) => `bundle ${n}: ${e.message}`).join('; ')}\n`);
    await pdp.close();
    return 1;
  }
  log('info', 'pdp listening', { url: pdp.url(), pid: process.pid, bundles: [...pdp.bundles.current().keys()] });
  return new Promise<number>((resolve) => {
    const stop = async () => {
      await pdp.close();
      // a cluster worker's IPC channel to the primary keeps it alive after the server closed: let go,
      // so the worker exits and the primary (waiting for its workers) can exit too
      if (cluster.isWorker && process.connected) process.disconnect();
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function defaultName(source: string): string {
  const base = source.replace(/[?#].*$/, '').replace(/\/+$/, '').split('/').pop() || 'bundle';
  return base.replace(/\.tar\.gz$|\.tgz$/i, '') || 'bundle';
}

/**
 * Serve with `config.workers` processes. The primary forks the workers (which re-run the same
 * command and land here as workers) and restarts any that die, unless they die too fast.
 */
export async function runServer(config: PdpConfig): Promise<number> {
  const workers = config.workers ?? 1;
  if (workers <= 1 || cluster.isWorker) return serveHere(config);
  log('info', 'starting workers', { workers, addr: config.server.addr, port: config.server.port });
  serveClusterMetrics();
  writeWorkersDecisionLogs(config.decision_logs.output, (msg, fields) => log('warn', msg, fields));
  let stopping = false;
  const recentDeaths: number[] = [];
  for (let i = 0; i < workers; i++) cluster.fork({ PDP_WORKERS: '1' });
  return new Promise<number>((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0);
        return;
      }
      const now = Date.now();
      recentDeaths.push(now);
      while (recentDeaths.length && now - recentDeaths[0] > 10_000) recentDeaths.shift();
      log('error', 'worker exited', { pid: w.process.pid, code, signal });
      if (recentDeaths.length > workers * 2) {
        log('error', 'workers keep dying; giving up');
        stopping = true;
        for (const x of Object.values(cluster.workers ?? {})) x?.kill();
        resolve(1);
        return;
      }
      cluster.fork({ PDP_WORKERS: '1' });
    });
    const stop = () => {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {});
      if (alive.length === 0) resolve(0);
      for (const x of alive) x?.kill('SIGTERM');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
