//! The inference workers and their queue. Streams with a waiting frame sit in one FIFO
//! queue, each at most once: a worker takes the stream at the front, processes its newest
//! frame with the stream's own tracker, and if another frame arrived meanwhile puts the
//! stream at the back. So a stream with a fresh frame waits at most one round of the others,
//! and no stream starves. Workers are OS threads, one engine per model kind each (ONNX
//! Runtime sessions run with `&mut self`), built once when first asked for.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use livepose_core::inference::PipelineBuilder;
use parking_lot::{Condvar, Mutex};

use super::infer::WorkerState;
use crate::metrics::Metrics;
use crate::streams::{InFrame, StreamCore};

struct Queue {
    /// The streams with a frame waiting, and whether the workers are to stop.
    streams: Mutex<(VecDeque<Arc<StreamCore>>, bool)>,
    ready: Condvar,
}

/// The inference workers.
pub(crate) struct WorkerPool {
    queue: Arc<Queue>,
    workers: Vec<JoinHandle<()>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl WorkerPool {
    /// Starts `workers` threads whose engines come from `builder` (models directory, hands,
    /// session options); each builds an engine per landmark model on first use.
    /// With `inference` off, workers answer every frame with an empty result at once. Fails
    /// if the OS refuses a thread.
    pub(crate) fn start(
        workers: usize,
        builder: PipelineBuilder,
        inference: bool,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let queue = Arc::new(Queue {
            streams: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        });
        let workers = (0..workers.max(1))
            .map(|i| {
                let (queue, builder, metrics) = (queue.clone(), builder.clone(), metrics.clone());
                std::thread::Builder::new()
                    .name(format!("livepose-worker-{i}"))
                    .spawn(move || worker(&queue, &builder, inference, &metrics))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(WorkerPool {
            queue,
            workers,
            metrics,
        })
    }

    /// Hands `frame` to `stream` (latest wins) and queues the stream if it is not queued.
    /// Returns false if the stream is closed.
    pub(crate) fn submit(&self, stream: &Arc<StreamCore>, frame: InFrame) -> bool {
        match stream.inbound.put(frame) {
            Err(_) => return false,
            Ok(displaced) => {
                self.metrics.frames_received.inc();
                if let Some(room) = stream.room() {
                    room.frame_in(Instant::now());
                }
                if displaced.is_some() {
                    self.metrics.frames_dropped.inc();
                }
            }
        }
        // Not while a result waits for the writer: its `resume` queues the stream then.
        if !stream.result_pending() {
            enqueue(&self.queue, stream);
        }
        true
    }

    /// For the socket writer, after it took a result: queues the stream again if a frame
    /// waits (the workers skip a stream whose result has not been taken).
    pub(crate) fn resume(&self, stream: &Arc<StreamCore>) {
        if stream.runnable() {
            enqueue(&self.queue, stream);
        }
    }

    /// Stops the workers after the frames they hold (queued streams are dropped).
    pub(crate) fn shutdown(&mut self) {
        {
            let mut guard = self.queue.streams.lock();
            guard.0.clear();
            guard.1 = true;
        }
        self.queue.ready.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn enqueue(queue: &Queue, stream: &Arc<StreamCore>) {
    if !stream.mark_queued() {
        return;
    }
    queue.streams.lock().0.push_back(stream.clone());
    queue.ready.notify_one();
}

fn worker(queue: &Queue, builder: &PipelineBuilder, inference: bool, metrics: &Metrics) {
    let mut state = WorkerState::new(builder, inference, metrics);
    loop {
        let stream = {
            let mut guard = queue.streams.lock();
            loop {
                if guard.1 {
                    return;
                }
                if let Some(s) = guard.0.pop_front() {
                    break s;
                }
                queue.ready.wait(&mut guard);
            }
        };
        // `queued` stays set while the frame is in flight: at most one frame of a stream is
        // processed at a time, and results leave in order. A stream whose last result is
        // still waiting for its socket writer (a client that does not read) gets no
        // inference: its frame waits, latest wins, until the writer takes the result and
        // calls `resume`.
        if !stream.result_pending() {
            if let Some(frame) = stream.inbound.take().filter(|_| !stream.is_closed()) {
                let out = state.infer(&stream, &frame);
                stream.processed.fetch_add(1, Ordering::SeqCst);
                if !stream.is_closed() {
                    if let Some(room) = stream.room() {
                        room.audience.publish_result(&out);
                    }
                    if let Ok(Some(_)) = stream.outbound.put(out) {
                        stream.results_dropped.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
        stream.unmark_queued();
        // A frame that arrived meanwhile, with the writer ready: back of the queue. (If the
        // writer takes the result after this check, its `resume` queues the stream.)
        if stream.runnable() {
            enqueue(queue, &stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;
    use livepose_core::wire::control::{ModelKind, ResultFormat};

    use super::*;
    use crate::message::OutMessage;
    use crate::streams::StreamSettings;

    fn frame(sequence: u64) -> InFrame {
        InFrame {
            image: Bytes::from_static(b"not decoded: inference is off"),
            raw: None,
            sequence,
            capture_ts_us: 0,
            received_us: 0,
        }
    }

    /// Waits up to 5 s for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < until {
            if done() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        done()
    }

    #[test]
    fn a_stream_whose_result_is_not_taken_gets_no_more_inference_until_it_is() {
        let builder = PipelineBuilder::default();
        let pool = WorkerPool::start(2, builder.clone(), false, Arc::default()).unwrap();
        let settings = StreamSettings {
            model: ModelKind::Lite,
            results: ResultFormat::Binary,
        };
        let stream = StreamCore::new("s1".into(), builder.tracker(), settings);
        pool.submit(&stream, frame(1));
        assert!(eventually(|| stream.processed.load(Ordering::SeqCst) == 1));
        // The writer has not taken result 1 (a client that does not read): frame 2 waits.
        pool.submit(&stream, frame(2));
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(stream.processed.load(Ordering::SeqCst), 1);
        // The writer takes the result and resumes the stream: frame 2 is inferred.
        assert!(matches!(
            stream.outbound.take(),
            Some(OutMessage::Binary(_))
        ));
        pool.resume(&stream);
        assert!(eventually(|| stream.processed.load(Ordering::SeqCst) == 2));
        assert_eq!(stream.frames_dropped(), 0);
    }
}
