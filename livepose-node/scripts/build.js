#!/usr/bin/env node
// Builds the native addon with cargo and copies it to livepose.node, for development in a
// checkout: `npm install` in this folder runs it (the `prepare` script; a no-op once
// livepose.node exists), `npm run build` rebuilds (--force). Needs a Rust toolchain. The
// published package has no such script: its addon comes prebuilt in the platform package
// (@livepose/linux-x64-gnu, made by scripts/dist.sh). LIVEPOSE_NODE_PROFILE picks the cargo
// profile (default release).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'livepose.node');
if (fs.existsSync(out) && !process.argv.includes('--force')) process.exit(0);

const profile = process.env.LIVEPOSE_NODE_PROFILE || 'release';
const manifest = path.join(root, 'Cargo.toml');
execFileSync('cargo', ['build', '--manifest-path', manifest, '--lib', '--profile', profile], { stdio: 'inherit' });
const metadata = JSON.parse(execFileSync('cargo', ['metadata', '--manifest-path', manifest, '--format-version', '1', '--no-deps']));
const library = { darwin: 'liblivepose_node.dylib', win32: 'livepose_node.dll' }[process.platform] || 'liblivepose_node.so';
const built = path.join(metadata.target_directory, profile === 'dev' ? 'debug' : profile, library);
fs.copyFileSync(built, out);
console.log(`livepose: built ${path.relative(root, out)} (${profile})`);
