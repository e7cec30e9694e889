//! Where the server's memory goes: creates ONNX Runtime sessions one by one and prints the
//! process's resident memory (VmRSS) after each, with ONNX Runtime options to compare.
//! An experiment, not part of the test suite.
//!
//! ```text
//! cargo run --release -p livepose-core --example session_memory -- \
//!     --models /tmp/mf det lite det lite drop trim
//! cargo run --release -p livepose-core --example session_memory -- \
//!     --models /tmp/mf --shared-prepack --time 200 det lite det lite
//! ```
//!
//! Steps (positional): `det`, `lite`, `full` (one session of that model, run once on zeros,
//! as livepose's `Model::load` does), `drop` (drops every session), `trim` (glibc's
//! `malloc_trim(0)`). Options: `--arena` (CPU memory arena on; livepose has it off),
//! `--no-mem-pattern`, `--no-prepack` (`session.disable_prepacking`), `--shared-prepack`
//! (one prepacked-weights container for all sessions), `--opt 0..3`, `--threads N`
//! (intra-op), `--trim` (`malloc_trim` before each figure, so that it counts memory in
//! use, not memory freed but kept by malloc), `--time N` (N runs of each session at the
//! end, mean time; the inputs are not real frames).
//!
//! With `engine` steps it goes through livepose's own `PipelineBuilder` instead (see
//! `pipeline_steps`): `engine`, `engine-thread`, `engine-full`, `drop`, `trim`.

use std::path::PathBuf;
use std::time::Instant;

use livepose_core::inference::runtime::resolve_library;
use livepose_core::onnx::prune_outputs;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::session::Session;
use ort::value::TensorRef;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Meter {
    last: u64,
    trim: bool,
    since: Instant,
}

impl Meter {
    fn step(&mut self, what: &str) {
        if self.trim {
            trim();
        }
        let now = rss_kb();
        println!(
            "{what:<32} rss {:>7.1} MB  delta {:>+7.1} MB  {:>6.1} ms",
            now as f64 / 1024.0,
            (now as f64 - self.last as f64) / 1024.0,
            self.since.elapsed().as_secs_f64() * 1e3
        );
        self.last = now;
        self.since = Instant::now();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's malloc_trim only releases free memory of the malloc heaps.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[derive(Default)]
struct Options {
    models: PathBuf,
    arena: bool,
    mem_pattern: bool,
    prepack: bool,
    shared_prepack: bool,
    opt: u8,
    threads: usize,
    time: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut meter = Meter {
        last: rss_kb(),
        trim: false,
        since: Instant::now(),
    };
    meter.step("start");
    let mut o = Options {
        models: PathBuf::from("/tmp/mf"),
        mem_pattern: true,
        prepack: true,
        opt: 3,
        threads: 1,
        ..Options::default()
    };
    let mut steps = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--models" => o.models = args.next().ok_or("--models DIR")?.into(),
            "--arena" => o.arena = true,
            "--no-mem-pattern" => o.mem_pattern = false,
            "--no-prepack" => o.prepack = false,
            "--shared-prepack" => o.shared_prepack = true,
            "--opt" => o.opt = args.next().ok_or("--opt N")?.parse()?,
            "--threads" => o.threads = args.next().ok_or("--threads N")?.parse()?,
            "--trim" => meter.trim = true,
            "--time" => o.time = args.next().ok_or("--time N")?.parse()?,
            step => steps.push(step.to_string()),
        }
    }
    if steps.iter().any(|s| s.starts_with("engine")) {
        return pipeline_steps(&o, &steps, meter);
    }
    let library = resolve_library(None)?;
    let builder = ort::init_from(&library)?;
    meter.step("dlopen libonnxruntime");
    let env = builder.with_name("mem").with_telemetry(false).build()?;
    meter.step("environment");
    let prepacked = o.shared_prepack.then(PrepackedWeights::new);

    let mut sessions: Vec<(String, Session, Vec<usize>)> = Vec::new();
    for step in &steps {
        let (file, shape, prune): (&str, Vec<usize>, &[&str]) = match step.as_str() {
            "det" => ("pose_detection.onnx", vec![1, 224, 224, 3], &[]),
            "lite" => (
                "pose_landmark_lite.onnx",
                vec![1, 256, 256, 3],
                &["Identity_2"],
            ),
            "full" => (
                "pose_landmark_full.onnx",
                vec![1, 256, 256, 3],
                &["Identity_2"],
            ),
            "drop" => {
                sessions.clear();
                meter.step("drop all sessions");
                continue;
            }
            "trim" => {
                trim();
                meter.step("malloc_trim(0)");
                continue;
            }
            other => return Err(format!("unknown step {other}").into()),
        };
        let mut bytes = std::fs::read(o.models.join(file))?;
        if !prune.is_empty() {
            bytes = prune_outputs(&bytes, prune)?;
        }
        let mut b = Session::builder(&env)?
            .with_intra_threads(o.threads)?
            .with_inter_threads(1)?
            .with_intra_op_spinning(false)?
            .with_inter_op_spinning(false)?
            .with_optimization_level(match o.opt {
                0 => GraphOptimizationLevel::Disable,
                1 => GraphOptimizationLevel::Level1,
                2 => GraphOptimizationLevel::Level2,
                _ => GraphOptimizationLevel::All,
            })?
            .with_memory_pattern(o.mem_pattern)?
            .with_prepacking(o.prepack)?
            .with_execution_providers([ort::ep::CPU::default()
                .with_arena_allocator(o.arena)
                .build()
                .error_on_failure()])?;
        if let Some(p) = &prepacked {
            b = b.with_prepacked_weights(p)?;
        }
        let mut session = b.commit_from_memory(&bytes)?;
        drop(bytes);
        meter.step(&format!("session {step} (built)"));
        let zeros = vec![0.0f32; shape.iter().product()];
        session.run(ort::inputs![TensorRef::from_array_view((
            &shape[..],
            &zeros[..]
        ))?])?;
        meter.step(&format!("session {step} (after one run)"));
        sessions.push((step.clone(), session, shape));
    }
    if o.time > 0 {
        for (name, session, shape) in &mut sessions {
            let input: Vec<f32> = (0..shape.iter().product::<usize>())
                .map(|i| (i % 251) as f32 / 251.0)
                .collect();
            let start = Instant::now();
            for _ in 0..o.time {
                session.run(ort::inputs![TensorRef::from_array_view((
                    &shape[..],
                    &input[..]
                ))?])?;
            }
            println!(
                "time {name:<6} {:.2} ms/run over {} runs",
                start.elapsed().as_secs_f64() * 1e3 / o.time as f64,
                o.time
            );
        }
        meter.step("after timing");
    }
    Ok(())
}

/// Steps through livepose's own [`PipelineBuilder`]: `engine` (an engine of the lite model
/// from a clone of one builder, kept), `engine-thread` (the same, built on a new thread, as
/// a server worker does), `engine-full`, `drop`, `trim`.
fn pipeline_steps(
    o: &Options,
    steps: &[String],
    mut meter: Meter,
) -> Result<(), Box<dyn std::error::Error>> {
    use livepose_core::inference::{Engine, PipelineBuilder};
    use livepose_core::wire::control::ModelKind;
    let builder = PipelineBuilder::default().models_dir(&o.models);
    let mut engines: Vec<Engine> = Vec::new();
    for step in steps {
        match step.as_str() {
            "engine" => engines.push(builder.build_engine()?),
            "engine-full" => engines.push(builder.clone().model(ModelKind::Full).build_engine()?),
            "engine-thread" => {
                let b = builder.clone();
                engines.push(
                    std::thread::spawn(move || b.build_engine())
                        .join()
                        .unwrap()?,
                )
            }
            "drop" => engines.clear(),
            "trim" => trim(),
            other => return Err(format!("unknown step {other}").into()),
        }
        meter.step(&format!(
            "{step} ({} model sets)",
            builder.loaded_model_sets()
        ));
    }
    Ok(())
}
