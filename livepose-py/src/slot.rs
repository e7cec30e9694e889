//! `livepose.LatestSlot`: the core's latest-wins slot for Python objects. A producer
//! overwrites, a consumer always gets the newest item; displaced items are counted, never
//! queued. Waiting releases the GIL and still answers Ctrl-C.

use std::time::{Duration, Instant};

use livepose_core::slot::WaitOutcome;
use pyo3::prelude::*;

use crate::errors::{self, Kind};

/// How often a blocking wait wakes to let Python handle signals (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// A latest-wins hand-off between threads: `put` replaces, `take`/`wait` get the newest.
#[pyclass(module = "livepose", frozen)]
pub struct LatestSlot {
    inner: livepose_core::LatestSlot<Py<PyAny>>,
}

fn closed() -> PyErr {
    errors::error(Kind::SlotClosed, "the slot is closed", None)
}

#[pymethods]
impl LatestSlot {
    #[new]
    fn new() -> Self {
        LatestSlot {
            inner: livepose_core::LatestSlot::new(),
        }
    }

    /// Puts `item`, returning the item it displaced (counted in `dropped`) or `None`.
    /// Raises `SlotClosed` after `close()`.
    fn put(&self, item: Py<PyAny>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.put(item).map_err(|_| closed())
    }

    /// The newest item, without waiting; `None` if there is none.
    fn take(&self) -> Option<Py<PyAny>> {
        self.inner.take()
    }

    /// Waits for an item (the GIL released) at most `timeout` seconds (`None`: no limit)
    /// and returns it, or `None` on timeout. Raises `SlotClosed` once the slot is closed
    /// and empty.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let deadline = match timeout {
            Some(t) if !(t >= 0.0 && t.is_finite()) => {
                return Err(errors::error(
                    Kind::Config,
                    format!("timeout must be a non-negative number of seconds, got {t}"),
                    None,
                ))
            }
            Some(t) => Some(Instant::now() + Duration::from_secs_f64(t)),
            None => None,
        };
        loop {
            let step = deadline.map_or(SIGNAL_CHECK, |d| {
                d.saturating_duration_since(Instant::now())
                    .min(SIGNAL_CHECK)
            });
            match py.detach(|| self.inner.wait_timeout(step)) {
                WaitOutcome::Item(item) => return Ok(Some(item)),
                WaitOutcome::Closed => return Err(closed()),
                WaitOutcome::TimedOut => {}
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            py.check_signals()?;
        }
    }

    /// Closes the slot: `put` raises, waiting consumers get what is left, then `SlotClosed`.
    fn close(&self) {
        self.inner.close();
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Items accepted by `put`.
    #[getter]
    fn puts(&self) -> u64 {
        self.inner.counters().puts
    }

    /// Items handed to a consumer.
    #[getter]
    fn taken(&self) -> u64 {
        self.inner.counters().taken
    }

    /// Items displaced by a newer one before anyone took them.
    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.counters().dropped
    }

    fn __repr__(&self) -> String {
        let c = self.inner.counters();
        format!(
            "LatestSlot(puts={}, taken={}, dropped={}, closed={})",
            c.puts,
            c.taken,
            c.dropped,
            if self.inner.is_closed() {
                "True"
            } else {
                "False"
            }
        )
    }
}
