/**
 * /metrics across node:cluster workers. Each worker keeps its own prom-client registry, and the
 * workers share one port: without this, a scrape got the counters of whichever worker accepted the
 * connection, so `pdp_decisions_total` jumped between scrapes and rate() over it was meaningless.
 *
 * A worker asked for /metrics asks the primary over IPC; the primary gathers every worker's registry
 * with prom-client's AggregatorRegistry (counters and histograms summed; gauges as each metric says)
 * and sends the text back. A scrape that cannot be aggregated fails (503) rather than answering with
 * one worker's numbers as if they were the whole server's.
 */
import cluster from 'cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'pdp:cluster-metrics';
const ANSWER = 'pdp:cluster-metrics-answer';
const TIMEOUT_MS = 5_000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

let primaryInstalled = false;

/** In the primary: answer workers' requests for the aggregated metrics. Call once, before forking. */
export function serveClusterMetrics(): void {
  if (primaryInstalled || !cluster.isPrimary) return;
  primaryInstalled = true;
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: { type?: string; id?: number }) => {
    if (msg?.type !== ASK || typeof msg.id !== 'number') return;
    const reply = (a: Omit<Answer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: msg.id, ...a });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: Error) => reply({ error: err.message }),
    );
  });
}

let workerInstalled = false;
let nextId = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

/** In a worker: let the primary read this registry when it aggregates. */
export function shareWithPrimary(registry: Registry): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  if (workerInstalled) return;
  workerInstalled = true;
  new AggregatorRegistry(); // installs prom-client's worker-side listener for the primary's requests
  process.on('message', (msg: Answer) => {
    if (msg?.type !== ANSWER) return;
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    clearTimeout(w.timer);
    if (typeof msg.text === 'string') w.resolve(msg.text);
    else w.reject(new Error(msg.error ?? 'no metrics in the answer'));
  });
}

/** Whether this process is one of several node:cluster workers, with an IPC channel to the primary. */
export function inCluster(): boolean {
  return cluster.isWorker && typeof process.send === 'function';
}

/** The whole server's metrics text, from the primary (workers only). */
export function clusterMetricsText(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the primary did not answer in time'));
    }, TIMEOUT_MS);
    timer.unref();
    waiting.set(id, { resolve, reject, timer });
    process.send!({ type: ASK, id }, undefined, undefined, (err) => {
      if (!err) return;
      waiting.delete(id);
      clearTimeout(timer);
      reject(err);
    });
  });
}
