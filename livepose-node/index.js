// livepose for Node: loads the native addon (livepose.node), with ONNX Runtime from the
// onnxruntime-node package unless ORT_DYLIB_PATH says otherwise, and gives thrown errors
// their codes (`err.code`: ERR_LIVEPOSE_CONFIG, _MODEL, _IMAGE, _PROTOCOL, _SERVER;
// protocol errors also carry `err.protocolCode`: truncated, bad_magic, ...).
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

function addonPath() {
  const names = fs.readdirSync(__dirname).filter((name) => /^livepose(\.[\w-]+)?\.node$/.test(name)).sort();
  if (names.length === 0) {
    throw new Error('livepose: the native addon is not built; run `npm install` (or `npm run build`) in the package folder');
  }
  return path.join(__dirname, names.includes('livepose.node') ? 'livepose.node' : names[0]);
}

const native = require(addonPath());

const CODED = /^(ERR_LIVEPOSE_[A-Z]+): ([\s\S]*)$/;

/** Moves the code prefix of a native error's message into `code` (and `protocolCode`). */
function coded(error) {
  const match = error instanceof Error ? CODED.exec(error.message) : null;
  if (match) {
    error.code = match[1];
    error.message = match[2];
    if (match[1] === 'ERR_LIVEPOSE_PROTOCOL') error.protocolCode = match[2].split(':', 1)[0];
  }
  return error;
}

function withCodes(fn) {
  return function livepose(...args) {
    let out;
    try {
      out = fn.apply(this, args);
    } catch (error) {
      throw coded(error);
    }
    return out instanceof Promise ? out.catch((error) => { throw coded(error); }) : out;
  };
}

class Pipeline extends native.Pipeline {
  constructor(options) {
    try {
      super(options);
    } catch (error) {
      throw coded(error);
    }
  }
}
Pipeline.prototype.process = withCodes(native.Pipeline.prototype.process);

module.exports = {
  Pipeline,
  ServerHandle: native.ServerHandle,
  serve: withCodes(native.serve),
  encodeFrame: withCodes(native.encodeFrame),
  decodeFrame: withCodes(native.decodeFrame),
  decodeResult: withCodes(native.decodeResult),
  onnxruntimeLibrary: withCodes(native.onnxruntimeLibrary),
  findOnnxruntime,
};
