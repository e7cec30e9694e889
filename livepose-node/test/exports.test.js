// The generated definitions (native.d.ts) and the addon agree on what it exports: a Rust
// export added or removed without `npm run types` fails here.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

test('every native export is declared, every declaration exported', () => {
  const declared = [...fs.readFileSync(path.join(__dirname, '..', 'native.d.ts'), 'utf8')
    .matchAll(/^export declare (?:class|function) (\w+)/gm)].map((m) => m[1]).sort();
  const native = require(path.join(__dirname, '..', 'livepose.node'));
  assert.deepEqual(Object.keys(native).sort(), declared);
  const exported = Object.keys(require('..'));
  for (const name of declared) assert.ok(exported.includes(name), name);
});
