//! The native part of the `livepose` npm package (napi-rs). `index.js` finds ONNX Runtime
//! in the `onnxruntime-node` package and loads this addon, whose errors carry their codes;
//! `index.d.ts` is generated from these definitions by `npm run types`.

// napi-derive compiles its export registration out of `cfg(test)` builds, so clippy's test
// build of this cdylib sees the exports as unused.
#![cfg_attr(test, allow(dead_code))]

mod codec;
mod errors;
mod options;
mod pipeline;
mod result;
mod serve;
