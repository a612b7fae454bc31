/**
 * The decision log with several node:cluster workers. Workers inherit the primary's stdout, so each
 * wrote its batches to the same pipe or file; a write to a pipe is atomic only up to PIPE_BUF (4 KiB),
 * and a batch of decision lines is far larger, so lines of two workers interleaved mid-line (measured:
 * 551 of 122,193 lines unparsable after 8 s of load on two workers writing to a pipe). Now workers
 * hand their batches to the primary over IPC and the primary is the only writer.
 *
 * Backpressure: a worker's relay is a Writable whose write completes when the IPC message is sent, so
 * the logger's bounded queue (and its drop counter) still applies in each worker. The primary writes
 * what it receives; if its output falls behind by more than MAX_BACKLOG bytes it drops batches and
 * says how many, rather than buffering without bound.
 */
import cluster from 'cluster';
import { Writable } from 'stream';
import { inCluster } from './cluster-metrics';
import { openLogOutput } from './decision-log';

const LINES = 'pdp:decision-log';
const MAX_BACKLOG = 64 * 1024 * 1024;

/** In a worker: a stream whose writes go to the primary's decision-log writer. */
export function relayToPrimary(): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    highWaterMark: 1024 * 1024,
    write(chunk: string | Buffer, _enc, done) {
      if (!process.connected || !process.send) return done(new Error('the primary is gone: decision log lines lost'));
      process.send({ type: LINES, text: String(chunk) }, undefined, undefined, (err) => done(err ?? undefined));
    },
  });
}

/** Whether this process's decision log must go through the primary. */
export function logThroughPrimary(output: string): boolean {
  return output !== 'off' && inCluster();
}

let installed = false;

/** In the primary: write the workers' decision-log batches to `output` ('stdout' | 'stderr' | a file). */
export function writeWorkersDecisionLogs(output: string, warn: (msg: string, fields?: Record<string, unknown>) => void): void {
  if (installed || output === 'off' || !cluster.isPrimary) return;
  installed = true;
  const stream: NodeJS.WritableStream & { writableLength?: number } = openLogOutput(output);
  stream.on('error', (err: Error) => warn('decision log error', { error: err.message }));
  let dropped = 0;
  cluster.on('message', (_worker, msg: { type?: string; text?: unknown }) => {
    if (msg?.type !== LINES || typeof msg.text !== 'string') return;
    if ((stream.writableLength ?? 0) > MAX_BACKLOG) {
      dropped++;
      if (dropped === 1 || dropped % 1000 === 0) warn('decision log output is not keeping up; batches dropped', { dropped_batches: dropped });
      return;
    }
    stream.write(msg.text);
  });
}
