// livepose for Node: loads the native addon (a local build in this folder, else the prebuilt
// one of the platform package, e.g. @livepose/linux-x64-gnu), with ONNX Runtime from the
// onnxruntime-node package unless ORT_DYLIB_PATH says otherwise. The addon's errors carry
// their codes (`err.code`: ERR_LIVEPOSE_CONFIG, _MODEL, _IMAGE, _PROTOCOL, _SERVER;
// protocol errors also `err.protocolCode`: truncated, bad_magic, ...), set natively.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** The ONNX Runtime library inside the onnxruntime-node package, or null. */
function findOnnxruntime() {
  let dir;
  try {
    dir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return null;
  }
  const folder = path.join(dir, 'bin', 'napi-v6', process.platform, process.arch);
  const pattern = { darwin: /^libonnxruntime(\.\d+)*\.dylib$/, win32: /^onnxruntime\.dll$/ }[process.platform]
    || /^libonnxruntime\.so(\.\d+)*$/;
  const found = fs.existsSync(folder) ? fs.readdirSync(folder).filter((name) => pattern.test(name)).sort() : [];
  return found.length > 0 ? path.join(folder, found[found.length - 1]) : null;
}

if (!process.env.ORT_DYLIB_PATH) {
  const library = findOnnxruntime();
  if (library) process.env.ORT_DYLIB_PATH = library;
}

/** Whether this Linux runs on musl (Alpine) rather than glibc. */
function isMusl() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
    return Boolean(report && !report.header?.glibcVersionRuntime);
  }
}

/** The napi-rs name of this platform: linux-x64-gnu, darwin-arm64, win32-x64-msvc, ... */
function platformTarget() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * The native addon: one built in this folder (`npm run build` in a checkout: development),
 * else the prebuilt one in the platform package, an optional dependency that npm installs
 * only on its platform.
 */
function loadNative() {
  const local = fs.readdirSync(__dirname).filter((name) => /^livepose(\.[\w-]+)?\.node$/.test(name)).sort();
  if (local.length > 0) {
    return require(path.join(__dirname, local.includes('livepose.node') ? 'livepose.node' : local[0]));
  }
  const target = platformTarget();
  const pkg = `@livepose/${target}`;
  try {
    return require(pkg);
  } catch (error) {
    // Only "that package is not installed" becomes the explanation below; a package that is
    // there but fails to load (an older glibc, a broken file) keeps its own error.
    if (error?.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes(pkg)) throw error;
    throw new Error(`livepose: no native addon for ${target}: the prebuilt one comes in the optional `
      + `dependency ${pkg} (published for linux-x64-gnu); reinstall without --omit=optional / `
      + '--no-optional, or build it from a livepose checkout: `cd livepose-node && npm install` (needs Rust)');
  }
}

const native = loadNative();

module.exports = {
  Pipeline: native.Pipeline,
  ServerHandle: native.ServerHandle,
  serve: native.serve,
  encodeFrame: native.encodeFrame,
  decodeFrame: native.decodeFrame,
  decodeResult: native.decodeResult,
  onnxruntimeLibrary: native.onnxruntimeLibrary,
  findOnnxruntime,
};
