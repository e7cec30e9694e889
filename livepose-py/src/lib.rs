//! `livepose._livepose`: the native part of the `livepose` Python package. The Python layer
//! (`python/livepose/`) finds ONNX Runtime in the `onnxruntime` package and re-exports
//! these classes, functions and exceptions, with type stubs (`_livepose.pyi`). No logic of
//! its own: options are parsed by livepose's Rust options types, the work is livepose-core's
//! and livepose-ws's.
//!
//! | module | job |
//! | --- | --- |
//! | `errors` | the exceptions, declared here with `create_exception!` (`Error`; `ConfigError`, `ImageError`, `ProtocolError`, also `ValueError`s; `ModelError`, `ServerError`, `SlotClosed`), and Rust errors into them |
//! | `options` | keyword arguments into `PipelineOptions` / `ServeOptions`, read once by core's `parse_options` (a refusal is a `ConfigError` naming the option) |
//! | `pipeline` | `Pipeline(**options)` (keyword only) and `process` without the GIL; `onnxruntime_library` |
//! | `result` | `PoseResult`, `Pose`, `Hand`: numpy arrays, `to_dict`, `to_bytes` |
//! | `codec` | protocol v1 frames and results (`livepose.codec`) |
//! | `slot` | `LatestSlot` for Python objects |
//! | `serve` | `serve(host, port, **options)` and `serve_background(...)`: every `ServeOptions` field as a keyword; the `Server` handle |

mod codec;
mod errors;
mod options;
mod pipeline;
mod result;
mod serve;
mod slot;

use pyo3::prelude::*;

#[pymodule]
fn _livepose(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<pipeline::Pipeline>()?;
    m.add_class::<result::PoseResult>()?;
    m.add_class::<result::Pose>()?;
    m.add_class::<result::Hand>()?;
    m.add_class::<slot::LatestSlot>()?;
    m.add_class::<serve::Server>()?;
    m.add_function(wrap_pyfunction!(serve::serve, m)?)?;
    m.add_function(wrap_pyfunction!(serve::serve_background, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline::onnxruntime_library, m)?)?;
    // The codec's functions and classes; `livepose.codec` re-exports them.
    codec::register(m)?;
    Ok(())
}
