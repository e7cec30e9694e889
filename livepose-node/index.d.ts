// Types of the `livepose` package: the native addon's (native.d.ts, generated from the Rust
// definitions by `npm run types`) plus what index.js adds.
export * from './native'
export type { PipelineOptions, ServeOptions } from './options'

/** The error codes of thrown `Error`s (`err.code`). */
export type LiveposeErrorCode =
  | 'ERR_LIVEPOSE_CONFIG'
  | 'ERR_LIVEPOSE_MODEL'
  | 'ERR_LIVEPOSE_IMAGE'
  | 'ERR_LIVEPOSE_PROTOCOL'
  | 'ERR_LIVEPOSE_SERVER'

/** A livepose error: `code` says which kind; protocol errors name the wire error code. */
export interface LiveposeError extends Error {
  code: LiveposeErrorCode
  /** For ERR_LIVEPOSE_PROTOCOL: `truncated`, `bad_magic`, `unsupported_version`, ... */
  protocolCode?: string
}

/** The ONNX Runtime library inside the onnxruntime-node package (null if not installed). */
export declare function findOnnxruntime(): string | null
