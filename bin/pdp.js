#!/usr/bin/env node
'use strict';
// The `pdp` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (run automatically by `npm ci` through the `prepare` script).
const path = require('path');
const fs = require('fs');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('pdp: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
require(main).main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`pdp: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 2; },
);
