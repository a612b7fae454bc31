/**
 * Running the PDP as a process: one server per worker (node:cluster, `workers` from config /
 * PDP_WORKERS, default the number of CPUs), each worker stateless and loading bundles itself;
 * graceful shutdown on SIGTERM/SIGINT; a crashed worker is replaced (with a backoff); a process that
 * cannot serve (the port is taken, a local bundle does not load) exits non-zero, never hangs.
 */
import cluster from 'cluster';
import { startPdpServer, jsonLogger } from './server';
import type { PdpConfig } from './types';
import { serveClusterMetrics } from './cluster-metrics';
import { writeWorkersDecisionLogs } from './cluster-log';

const log = jsonLogger();

/** Serve in this process. Resolves when the server has stopped. */
async function serveHere(config: PdpConfig, onListening?: () => void): Promise<number> {
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
  onListening?.();
  return new Promise<number>((resolve) => {
    const stop = async () => {
      await pdp.close();
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

/** Worker → primary: this worker listens (it has started). */
const LISTENING = 'pdp:worker-listening';
/** A worker that stays up this long has started well: the restart backoff starts over after it. */
const STABLE_MS = 30_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 15_000;
/** How long stopping workers may take before they are killed (a failed start must end within a second). */
const STOP_GRACE_MS = 500;
/** How long a stopped process may take to exit by itself before it is made to. */
const EXIT_GRACE_MS = 1_000;

/** The delay before restarting a worker after `crashes` quick deaths in a row (250 ms doubling, ≤ 15 s). */
export function restartDelayMs(crashes: number): number {
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, crashes - 1), BACKOFF_MAX_MS);
}

/**
 * Serve with `config.workers` processes. The primary forks the workers (which re-run the same
 * command and land here as workers). A worker that dies after it started is restarted, with a
 * backoff while deaths come quickly. A worker that cannot start at all (it exits before it listens:
 * the port is taken, a bundle does not load) stops the whole server with its exit code: restarting
 * it could only fail again, and a server that silently has no workers is worse than one that exits.
 */
export async function runServer(config: PdpConfig): Promise<number> {
  const code = cluster.isWorker ? await runWorker(config) : (config.workers ?? 1) <= 1 ? await serveHere(config) : await runPrimary(config);
  // the server has stopped (or never started): a handle left behind (a library's timer, a socket)
  // must not keep the process alive, which would look like a server that hangs instead of failing
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}

async function runWorker(config: PdpConfig): Promise<number> {
  const code = await serveHere(config, () => process.send?.({ type: LISTENING }));
  // exit now, with the code: the IPC channel to the primary would keep the worker alive, and
  // letting go of it (disconnect) makes node's cluster code exit with 0, hiding a failure
  process.exit(code);
}

async function runPrimary(config: PdpConfig): Promise<number> {
  const workers = config.workers ?? 1;
  log('info', 'starting workers', { workers, addr: config.server.addr, port: config.server.port });
  serveClusterMetrics();
  writeWorkersDecisionLogs(config.decision_logs.output, (msg, fields) => log('warn', msg, fields));
  const started = new Set<number>();
  const bornAt = new Map<number, number>();
  let crashes = 0;
  let stopping = false;
  let exitCode = 0;
  const fork = () => {
    const w = cluster.fork({ PDP_WORKERS: '1' });
    bornAt.set(w.id, Date.now());
  };
  cluster.on('message', (w, msg: { type?: string }) => {
    if (msg?.type === LISTENING) started.add(w.id);
  });
  for (let i = 0; i < workers; i++) fork();
  return new Promise<number>((resolve) => {
    const alive = () => Object.values(cluster.workers ?? {}).filter((x) => x && !x.isDead());
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      const left = alive();
      if (left.length === 0) return resolve(code);
      for (const x of left) x!.kill('SIGTERM');
      // a worker still starting has no SIGTERM handler yet but dies of it; one stuck is killed
      setTimeout(() => alive().forEach((x) => x!.process.kill('SIGKILL')), code === 0 ? 10_000 : STOP_GRACE_MS).unref();
    };
    cluster.on('exit', (w, code, signal) => {
      const lived = Date.now() - (bornAt.get(w.id) ?? Date.now());
      bornAt.delete(w.id);
      if (stopping) {
        if (alive().length === 0) resolve(exitCode);
        return;
      }
      if (!started.has(w.id)) {
        log('error', 'a worker could not start; stopping the server', { pid: w.process.pid, code, signal });
        process.stderr.write(`pdp: a worker could not start (exit code ${code ?? signal}); stopping\n`);
        stopAll(typeof code === 'number' && code !== 0 ? code : 1);
        return;
      }
      started.delete(w.id);
      crashes = lived >= STABLE_MS ? 1 : crashes + 1;
      const delay = restartDelayMs(crashes);
      log('error', 'worker exited; restarting it', { pid: w.process.pid, code, signal, restart_in_ms: delay, quick_deaths_in_a_row: crashes });
      setTimeout(() => {
        if (!stopping) fork();
      }, delay);
    });
    process.once('SIGTERM', () => stopAll(0));
    process.once('SIGINT', () => stopAll(0));
  });
}
