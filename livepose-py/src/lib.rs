//! `livepose._livepose`: the native part of the `livepose` Python package. The Python layer
//! (`python/livepose/`) finds ONNX Runtime in the `onnxruntime` package and re-exports
//! these classes, functions and exceptions, with type stubs.

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
