/**
 * Bundle status for operators: `GET /v1/status` (in the spirit of OPA's status API) and the check
 * behind `/health?bundles&strict`. A reload that fails keeps the previous bundle serving (on purpose),
 * so without this a broken policy save would be invisible: the service answers, just not with the
 * policy its source now holds.
 *
 * Field names follow OPA's bundle status where OPA has one (`name`, `active_revision`,
 * `last_successful_activation`, `code`, `message`, `errors`; `code`/`message`/`errors` only while the
 * newest attempt is failing); ours are added beside them (`last_attempt`, `last_failed_activation`,
 * `consecutive_failures`, `last_error`).
 */
import type { BundleStatus } from '../bundles/manager';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** One bundle's status object. */
export function bundleStatusJson(s: BundleStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: s.name,
    active_revision: s.activeRevision ?? '',
    last_successful_activation: iso(s.activatedAt),
    last_attempt: iso(s.lastAttemptAt),
    last_failed_activation: iso(s.lastFailureAt),
    consecutive_failures: s.consecutiveFailures,
    last_error: s.lastError && errorJson(s.lastError),
  };
  if (s.consecutiveFailures > 0 && s.lastError) {
    out.code = 'bundle_error';
    out.message = s.lastError.message;
    out.errors = errorJson(s.lastError).errors;
  }
  return out;
}

function errorJson(e: NonNullable<BundleStatus['lastError']>): { stage: string; message: string; errors: unknown[] } {
  return { stage: e.stage, message: e.message, errors: e.locations.map((l) => ({ location: { file: l.file, row: l.row, col: l.col } })) };
}

/** The `GET /v1/status` document. `ready`: every configured bundle has activated once. */
export function statusDocument(statuses: BundleStatus[], ready: boolean, version: string): Record<string, unknown> {
  const bundles: Record<string, unknown> = {};
  for (const s of statuses) bundles[s.name] = bundleStatusJson(s);
  const failing = statuses.some((s) => s.consecutiveFailures > 0);
  return {
    result: {
      labels: { id: `pid-${process.pid}`, version },
      bundles,
      plugins: { bundle: { state: !ready ? 'NOT_READY' : failing ? 'WARN' : 'OK' } },
    },
  };
}

/**
 * Why `/health?bundles&strict` fails, or undefined when it passes: a bundle never activated, or one
 * whose newest load attempt failed (it may still serve an older revision).
 */
export function strictHealthProblem(statuses: BundleStatus[]): string | undefined {
  const problems: string[] = [];
  for (const s of statuses) {
    if (s.activeRevision === undefined) problems.push(`bundle ${s.name} has not been activated`);
    else if (s.consecutiveFailures > 0) {
      problems.push(
        `bundle ${s.name}: the newest load attempt failed (${s.consecutiveFailures} in a row; serving revision ${s.activeRevision}): ${s.lastError?.message ?? 'unknown error'}`,
      );
    }
  }
  return problems.length ? problems.join('; ') : undefined;
}
