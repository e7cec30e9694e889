//! The inference worker pool, shared fairly by every stream: a FIFO of streams with a
//! waiting frame, each at most once, and OS threads that run one frame at a time
//! ([`WorkerPool`], in `workers`); what a worker does with a frame, in `infer`.

mod infer;
mod workers;

pub(crate) use workers::WorkerPool;
