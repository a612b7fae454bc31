/**
 * Coalesced response writes for the decision endpoints.
 *
 * Under load one turn of the event loop reads many requests (one per ready connection) and decides
 * each. Writing every answer as soon as it is decided means one socket write between two decisions;
 * each write wakes the client, whose handling then competes with the next decision. Measured on the
 * 2-core test machine (a VM, where waking the other core is costly), that per-write wake-up was the
 * largest single cost of a decision: ~26 µs of kernel time per answer written alone, ~7 µs per answer
 * when a turn's answers go out together. So answers decided in one turn are written together, right
 * after the turn's I/O callbacks (setImmediate runs in the same turn's check phase): no timer, no added
 * wait when idle — a lone request is answered in the turn that read it. (Flushing every few answers
 * instead, to overlap the client's work with ours, measured slower.)
 *
 * Order is kept per connection (node:http already serialises responses on a keep-alive socket).
 */
import type { ServerResponse } from 'http';

interface Pending {
  res: ServerResponse;
  status: number;
  text: string;
  headers?: Record<string, string>;
}

let pending: Pending[] = [];
/** marks a response queued and not yet written: a second answer for it is a bug, not a write */
const QUEUED = Symbol('pdp.answerQueued');
type Marked = ServerResponse & { [QUEUED]?: boolean };

function flush(): void {
  const batch = pending;
  pending = [];
  for (const p of batch) {
    (p.res as Marked)[QUEUED] = false;
    try {
      writeNow(p.res, p.status, p.text, p.headers);
    } catch {
      // one answer that cannot be written (a header node refuses, say) must not strand the others of
      // the batch; its client gets a closed connection, which every enforcement point treats as a deny
      p.res.destroy();
    }
  }
}

function writeNow(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  // the client may have gone away while its request was decided: nothing to answer then
  if (res.writableEnded || res.destroyed || res.socket?.destroyed) return;
  const head: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  if (headers) Object.assign(head, headers);
  res.writeHead(status, head);
  res.end(text);
}

/** Queue a JSON answer (already serialised) to be written at the end of this event-loop turn. */
export function writeJsonSoon(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  if ((res as Marked)[QUEUED] || res.headersSent) return;
  (res as Marked)[QUEUED] = true;
  pending.push({ res, status, text, headers });
  if (pending.length === 1) setImmediate(flush);
}

/** Whether an answer was already written or queued for this response. */
export function isAnswered(res: ServerResponse): boolean {
  return res.headersSent || (res as Marked)[QUEUED] === true;
}
