import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A fresh temporary directory holding `files` (relative path → content), for policy-directory tests. */
export function fileTree(files: Record<string, string>, prefix = 'pdp-tree-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const [f, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), c);
  }
  return d;
}
