//! The native part of the `livepose` npm package (napi-rs). `index.js` finds ONNX Runtime
//! in the `onnxruntime-node` package and loads this addon, passing its exports through.
//! `native.d.ts` is generated from these definitions by `npm run types`; `options.d.ts`
//! (the option objects, written by hand) and `index.d.ts` (both, plus the error type) sit
//! beside it. No logic of its own: options are parsed by livepose's Rust options types, the
//! work is livepose-core's and livepose-ws's.
//!
//! | module | job |
//! | --- | --- |
//! | `errors` | thrown `Error`s with `code` (`ERR_LIVEPOSE_CONFIG`, `_MODEL`, `_IMAGE`, `_PROTOCOL`, `_SERVER`) and, for wire errors, `protocolCode`, both set here |
//! | `options` | option objects into `PipelineOptions` / `ServeOptions`: camelCase names to snake_case, read once by core's `parse_options`; refusals name options in camelCase |
//! | `pipeline` | `new Pipeline(options)`; `process` of encoded bytes or raw RGB/RGBA pixels (`{data, width, height}`) on libuv's thread pool; `onnxruntimeLibrary` |
//! | `result` | results as plain objects with `Float32Array` landmarks |
//! | `codec` | `encodeFrame`, `decodeFrame`, `decodeResult` |
//! | `serve` | `serve(options)`: every `ServeOptions` field; the `ServerHandle` with `close()` |

// napi-derive compiles its export registration out of `cfg(test)` builds, so clippy's test
// build of this cdylib sees the exports as unused.
#![cfg_attr(test, allow(dead_code))]

mod codec;
mod errors;
mod options;
mod pipeline;
mod result;
mod serve;
