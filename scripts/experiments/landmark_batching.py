#!/usr/bin/env python3
"""Would batching landmark crops across streams (N crops in one ONNX Runtime run) pay off on CPU?

Not part of the test suite (it needs the `onnx` package: `pip install onnx`). For the lite and
full pose landmark models:

1. prunes the segmentation head exactly as livepose does at load (the graph output
   `Identity_2` and every node and initializer only it needs, see
   livepose-core/src/onnx/graph.rs and LANDMARK_SIGNATURE in landmarks.rs: the
   pipeline reads `Identity`, `Identity_1`, `Identity_3`, `Identity_4`);
2. makes the batch dimension dynamic: input and outputs get a symbolic first dimension, the
   three output Reshapes get -1 in place of their constant batch 1, and the Resizes (which
   give constant output `sizes` [1, C, H, W]) get the equivalent `scales` instead; every other
   node is checked to be batch-agnostic. A batch of N different crops must give the outputs of
   N batch-1 runs of the pruned static model (largest difference printed, must be < 1e-4);
3. times the per-crop cost of batch N in {1, 2, 4, 8, 16} with 1 and 2 intra-op threads
   (optimisation level ALL, no spinning: livepose's SessionConfig defaults), in random order
   within each round, each compared with the batch-1 figure of its own round, several rounds;
4. measures what matters for the server, whose workers (one per core) each run batch 1 with
   one intra-op thread: throughput in crops/s of (a) 2 threads x batch 1 x 1 intra-op thread
   (today), (b) 1 session x batch N x 2 intra-op threads, (c) 2 threads x batch N/2 x 1
   intra-op thread each, each thread with its own session as the workers have. Every
   configuration is measured right next to (a) (order random) and reported as a ratio to it,
   with (a) against itself as a control; besides wall-clock crops/s it reports the process's
   CPU time per crop, which other processes' load disturbs far less.

Input: real frames of a shared clip, scaled to 256x256 with ffmpeg. Around every measurement
it records the CPU time the rest of the machine used (from /proc/stat, minus this process), in
cores, so that measurements taken while others were busy can be told apart. The models are
those in /tmp/mf if that folder exists, else ../shared/models (--models to choose).

    python3 scripts/experiments/landmark_batching.py [--models DIR] [--rounds 5] [--runs 200] [--seconds 3]
"""
import argparse, copy, hashlib, json, os, random, statistics, subprocess, threading, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared")
KEPT = ["Identity", "Identity_1", "Identity_3", "Identity_4"]  # LANDMARK_SIGNATURE.outputs
PRUNED = ["Identity_2"]  # LANDMARK_SIGNATURE.pruned
BATCHES = [1, 2, 4, 8, 16]
# Ops whose computation is independent per batch element whatever their attributes/constants
# (Transpose and Pad are checked further below).
BATCH_AGNOSTIC = {"Conv", "Clip", "Relu", "Add", "Mul", "Sigmoid", "MaxPool", "AveragePool", "Transpose", "Pad"}


def prune(model, drop):
    """livepose's prune_outputs: without the outputs in `drop` and what only they need."""
    m = copy.deepcopy(model)
    g = m.graph
    kept_outputs = [o for o in g.output if o.name not in drop]
    assert len(kept_outputs) == len(g.output) - len(drop), "an output to drop is missing"
    needed, nodes = {o.name for o in kept_outputs}, []
    for n in reversed(g.node):  # nodes are topologically sorted
        if any(o in needed for o in n.output):
            nodes.append(n)
            needed.update(i for i in n.input if i)
    inits = [i for i in g.initializer if i.name in needed]
    del g.output[:], g.node[:], g.initializer[:]
    g.output.extend(kept_outputs)
    g.node.extend(reversed(nodes))
    g.initializer.extend(inits)
    return m


def dynamic_batch(model):
    """The model with a symbolic batch dimension; raises if a node may depend on batch 1."""
    shapes = {}
    inferred = onnx.shape_inference.infer_shapes(model)
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    m = copy.deepcopy(model)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    for n in g.node:
        const = [numpy_helper.to_array(inits[i]) if i in inits else None for i in n.input]
        if n.op_type == "Reshape":
            shape = const[1]
            assert shape is not None and shape[0] == 1 and uses[n.input[1]] == 1, n.name
            inits[n.input[1]].CopyFrom(numpy_helper.from_array(np.concatenate([[-1], shape[1:]]).astype(shape.dtype), n.input[1]))
        elif n.op_type == "Resize":
            # Inputs X, roi, scales, sizes: constant sizes [1, C, H, W] -> scales [1, 1, H/h, W/w]
            # (same output size; ONNX Runtime derives the same scale from sizes).
            assert len(n.input) == 4 and n.input[1] == "" and n.input[2] == "" and const[3] is not None, n.name
            sizes, x = const[3], shapes[n.input[0]]
            assert sizes[0] == 1 and sizes[1] == x[1], n.name
            scales = (sizes / np.array(x)).astype(np.float32)
            name = n.output[0] + "_scales"
            g.initializer.append(numpy_helper.from_array(scales, name))
            x_name = n.input[0]
            del n.input[:]
            n.input.extend([x_name, "", name])
        elif n.op_type == "Transpose":
            perm = [a.ints for a in n.attribute if a.name == "perm"][0]
            assert perm[0] == 0, n.name
        elif n.op_type == "Pad":
            pads = const[1]
            assert pads is not None and pads[0] == 0 and pads[len(pads) // 2] == 0, n.name
            assert len(n.input) < 4 or n.input[3] == "", n.name  # no axes input
        elif n.op_type not in BATCH_AGNOSTIC:
            raise ValueError(f"{n.op_type} {n.name}: not known to be batch-agnostic")
        if n.op_type in ("Add", "Mul"):
            # Broadcast constants must not carry a batch dimension other than 1.
            for c in const:
                assert c is None or c.ndim < 4 or c.shape[0] == 1, n.name
    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]  # the Resizes' former sizes go
    del g.initializer[:]
    g.initializer.extend(kept)
    for vi in list(g.input) + list(g.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del g.value_info[:]
    onnx.checker.check_model(m)
    return m


def crops(clip, count, step):
    """`count` frames of `clip`, every `step`-th, scaled to 256x256, as float NHWC in [0, 1]."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", clip, "-vf", f"select=not(mod(n\\,{step})),scale=256:256",
                          "-fps_mode", "passthrough", "-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 256, 256, 3)
    assert len(frames) == count, f"only {len(frames)} frames"
    return frames.astype(np.float32) / 255.0


def session(model_bytes, threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    o.add_session_config_entry("session.inter_op.allow_spinning", "0")
    o.log_severity_level = 3
    return ort.InferenceSession(model_bytes, o, providers=["CPUExecutionProvider"])


def run(s, x):
    return s.run(KEPT, {"input_1": x})


class Load:
    """CPU time used by everything but this process over an interval, in cores."""
    HZ = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def busy():
        f = [int(v) for v in open("/proc/stat").readline().split()[1:]]
        return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)) / Load.HZ  # user nice system irq softirq steal

    def __enter__(self):
        t = os.times()
        self.t, self.busy0, self.own0 = time.perf_counter(), Load.busy(), t.user + t.system
        return self

    def __exit__(self, *exc):
        t = os.times()
        wall = time.perf_counter() - self.t
        self.own = t.user + t.system - self.own0  # CPU seconds of this process
        self.other = max(0.0, (Load.busy() - self.busy0) - self.own) / wall


def per_crop_ms(s, x, runs):
    for _ in range(3):
        run(s, x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run(s, x)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times) / len(x)


def throughput(jobs, seconds):
    """Crops/s of `jobs` (session, batch) run concurrently, one Python thread each (ONNX Runtime
    releases the GIL during a run), and the number of crops."""
    barrier, rates, counts = threading.Barrier(len(jobs)), [0.0] * len(jobs), [0] * len(jobs)

    def work(i, s, x):
        barrier.wait()
        t0, n = time.perf_counter(), 0
        while True:
            run(s, x)
            n += 1
            t = time.perf_counter()
            if t - t0 >= seconds:
                break
        rates[i], counts[i] = n * len(x) / (t - t0), n * len(x)

    threads = [threading.Thread(target=work, args=(i, s, x)) for i, (s, x) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(rates), sum(counts)


def spread(values):
    return f"{min(values):.2f}–{max(values):.2f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="/tmp/mf" if os.path.isdir("/tmp/mf") else f"{SHARED}/models")
    p.add_argument("--clip", default=f"{SHARED}/media/outdoor_two_people_1768x994_30fps.mp4")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=200, help="timed runs at batch 1; batch N gets max(25, runs/N)")
    p.add_argument("--seconds", type=float, default=3.0, help="length of one throughput measurement")
    p.add_argument("--quiet-below", type=float, default=0.25, help="other processes' load (cores) under which a measurement counts as quiet")
    p.add_argument("--variants", default="lite,full")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="also write every measurement to this file")
    p.add_argument("--latency-rounds", type=int, help="rounds of the latency part (default --rounds; 0 skips it)")
    p.add_argument("--configs", help="throughput configurations to pair with (a), e.g. a2,b4,c4 (default all)")
    a = p.parse_args()
    random.seed(a.seed)
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, {os.cpu_count()} CPUs, loadavg {open('/proc/loadavg').read().split()[:3]}")
    data = crops(a.clip, 32, 7)
    batch = {n: np.ascontiguousarray(data[:n]) for n in BATCHES}

    sessions, serialized = {}, {}
    for v in a.variants.split(","):
        path = f"{a.models}/pose_landmark_{v}.onnx"
        raw = open(path, "rb").read()
        original = onnx.load_from_string(raw)
        static = prune(original, PRUNED)
        dynamic = dynamic_batch(static)
        print(f"{path} (sha256 {hashlib.sha256(raw).hexdigest()[:12]}): {len(original.graph.node)} nodes, "
              f"{len(static.graph.node)} after pruning {PRUNED}; outputs {[o.name for o in static.graph.output]}")
        sb, db = serialized[v] = static.SerializeToString(), dynamic.SerializeToString()
        for t in (1, 2):
            sessions[v, "static", t] = session(sb, t)
            sessions[v, "dynamic", t] = session(db, t)
        # Pruning changes no kept output; a batch of N equals N batch-1 runs.
        full = session(raw, 1)
        ref = [run(sessions[v, "static", 1], data[i:i + 1]) for i in range(16)]
        for i in range(4):
            got = full.run(KEPT, {"input_1": data[i:i + 1]})
            assert all(np.array_equal(g, r) for g, r in zip(got, ref[i])), "pruning changed an output"
        for t in (1, 2):
            for n in BATCHES:
                out = run(sessions[v, "dynamic", t], batch[n])
                diff = max(float(np.abs(o[i] - r[0]).max()) for i in range(n) for o, r in zip(out, ref[i]))
                scale = max(float(np.abs(r[0]).max()) for r in ref[0])
                print(f"  {v}, {t} thread(s), batch {n:2}: largest difference vs {n} batch-1 runs {diff:.2e} (outputs up to {scale:.0f})")
                assert diff < 1e-4, "batched outputs differ"
        for name, s in [("static", sessions[v, "static", 1]), ("dynamic", sessions[v, "dynamic", 1])]:
            print(f"  {v} {name} input {s.get_inputs()[0].shape}, outputs {[o.shape for o in s.get_outputs()]}")

    # 1. Per-crop latency. Within a round, each (model, threads) group measures its
    # configurations back to back in random order, so each is compared with the static
    # batch-1 baseline of the same round (paired ratio).
    variants = a.variants.split(",")
    groups = [(v, t) for v in variants for t in (1, 2)]
    lat_cfg = [("static", 1)] + [("dynamic", n) for n in BATCHES]
    keys = [(v, t, k, n) for v, t in groups for k, n in lat_cfg]
    lat, lat_ratio, lat_other = ({k: [] for k in keys} for _ in range(3))
    lat_rounds = a.rounds if a.latency_rounds is None else a.latency_rounds
    for r in range(lat_rounds):
        random.shuffle(groups)
        la, others = open("/proc/loadavg").read().split()[0], []
        for v, t in groups:
            order = lat_cfg[:]
            random.shuffle(order)
            got = {}
            for k, n in order:
                with Load() as load:
                    got[k, n] = per_crop_ms(sessions[v, k, t], batch[n], max(25, a.runs // n))
                lat_other[v, t, k, n].append(load.other)
                others.append(load.other)
            for k, n in lat_cfg:
                lat[v, t, k, n].append(got[k, n])
                lat_ratio[v, t, k, n].append(got[k, n] / got["static", 1])
        print(f"latency round {r + 1}/{lat_rounds}: loadavg {la} before; other processes used {statistics.median(others):.2f} "
              f"cores (median of measurements, max {max(others):.2f})", flush=True)

    # 2. Server throughput. Each configuration is measured right next to (a), today's setup,
    # in random order, and compared with it (paired ratio); (a) against (a) is the control
    # that shows the noise of such a ratio.
    jobs = {}
    for v in variants:
        # Each worker thread has its own session, as the server's workers do.
        s1 = [sessions[v, "static", 1], session(serialized[v][0], 1)]
        d1 = [sessions[v, "dynamic", 1], session(serialized[v][1], 1)]
        jobs[v, "a", 2] = [(s, batch[1]) for s in s1]
        for n in (2, 4, 8, 16):
            jobs[v, "b", n] = [(sessions[v, "dynamic", 2], batch[n])]
            jobs[v, "c", n] = [(s, batch[n // 2]) for s in d1]
    pairs = [k for k in jobs if a.configs is None or f"{k[1]}{k[2]}" in a.configs.split(",")]
    tput, tput_ratio, tput_other, cpu, cpu_ratio = ({k: [] for k in pairs} for _ in range(5))
    base_tput, base_cpu = {v: [] for v in variants}, {v: [] for v in variants}
    for r in range(a.rounds):
        random.shuffle(pairs)
        la, others = open("/proc/loadavg").read().split()[0], []
        for k in pairs:
            order = [k, (k[0], "a", 2)] if random.random() < 0.5 else [(k[0], "a", 2), k]
            got, other = [], 0.0
            for j in order:
                for s, x in jobs[j]:  # warm-up, outside the measurement
                    run(s, x)
                with Load() as load:
                    rate, crops_done = throughput(jobs[j], a.seconds)
                got.append((rate, 1000 * load.own / crops_done))
                other = max(other, load.other)
                others.append(load.other)
            (x, xc), (base, bc) = (got[0], got[1]) if order[0] == k else (got[1], got[0])
            tput[k].append(x)
            cpu[k].append(xc)
            base_tput[k[0]].append(base)
            base_cpu[k[0]].append(bc)
            tput_ratio[k].append(x / base)
            cpu_ratio[k].append(xc / bc)
            tput_other[k].append(other)
        print(f"throughput round {r + 1}/{a.rounds}: loadavg {la} before; other processes used {statistics.median(others):.2f} "
              f"cores (median of measurements, max {max(others):.2f})", flush=True)

    if a.json:
        def dump(d):
            return [{"key": list(k) if isinstance(k, tuple) else k, "values": xs} for k, xs in d.items()]
        with open(a.json, "w") as f:
            json.dump({"latency_ms": dump(lat), "latency_ratio": dump(lat_ratio), "latency_other_cores": dump(lat_other),
                       "crops_per_s": dump(tput), "crops_per_s_ratio": dump(tput_ratio), "cpu_ms_per_crop": dump(cpu),
                       "cpu_ratio": dump(cpu_ratio), "throughput_other_cores": dump(tput_other),
                       "baseline_crops_per_s": dump(base_tput), "baseline_cpu_ms_per_crop": dump(base_cpu)}, f, indent=1)

    # Report (markdown).
    q = a.quiet_below
    if lat_rounds:
        print(f"\n### Per-crop latency, ms (median of {lat_rounds} round medians, spread = min–max); ratio vs static batch 1 of the same round\n")
        print(f"| model | intra-op threads | batch N | model | per-crop ms | spread | ratio (median) | ratio spread | quiet (other load < {q} cores): n, ratio | other load, cores (median) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for v in variants:
            for t in (1, 2):
                for k, n in lat_cfg:
                    key = (v, t, k, n)
                    xs, rs = lat[key], lat_ratio[key]
                    quiet = [rr for rr, o in zip(rs, lat_other[key]) if o < q]
                    qs = f"{len(quiet)}, {statistics.median(quiet):.2f}" if quiet else "0"
                    print(f"| {v} | {t} | {n} | {k} | {statistics.median(xs):.2f} | {spread(xs)} | {statistics.median(rs):.2f} | "
                          f"{spread(rs)} | {qs} | {statistics.median(lat_other[key]):.2f} |")
    print(f"\n### Server throughput on 2 cores, crops/s (median of {a.rounds} rounds, spread = min–max); ratio vs (a) measured next to it\n")
    print("CPU ms/crop: CPU time of this process (all threads) per crop; unlike wall time it barely depends on how much of")
    print("the machine others take, and on a saturated server throughput = cores / CPU time per crop.\n")
    print(f"| model | configuration | crops per step | crops/s | spread | ratio vs (a) (median) | ratio spread | quiet (other load < {q} cores): n, ratio | other load, cores (median) | CPU ms/crop | ratio vs (a) (median, spread) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    names = {"a": "(a) control: (a) again", "b": "(b) 1 session x batch {n}, 2 intra-op threads",
             "c": "(c) 2 threads x batch {h}, 1 intra-op thread each"}
    for v in variants:
        xs = base_tput[v]
        print(f"| {v} | (a) 2 threads x batch 1, 1 intra-op thread each (today) | 2 | {statistics.median(xs):.1f} | {spread(xs)} | 1 | | | | "
              f"{statistics.median(base_cpu[v]):.2f} ({spread(base_cpu[v])}) | 1 |")
        for k in [k for k in jobs if k in pairs and k[0] == v]:
            xs, rs = tput[k], tput_ratio[k]
            quiet = [rr for rr, o in zip(rs, tput_other[k]) if o < q]
            qs = f"{len(quiet)}, {statistics.median(quiet):.2f}" if quiet else "0"
            print(f"| {v} | {names[k[1]].format(n=k[2], h=k[2] // 2)} | {k[2]} | {statistics.median(xs):.1f} | {spread(xs)} | "
                  f"{statistics.median(rs):.2f} | {spread(rs)} | {qs} | {statistics.median(tput_other[k]):.2f} | "
                  f"{statistics.median(cpu[k]):.2f} | {statistics.median(cpu_ratio[k]):.2f} ({spread(cpu_ratio[k])}) |")


if __name__ == "__main__":
    main()
