#!/usr/bin/env python3
"""Is a quantised (int8) or fp16 BlazePose landmark model worth shipping? (issue 25 item 1)

A prototype, so that no Rust converter is written for a variant that is not faster. Not
part of the test suite. In a venv of its own:

    pip install onnxruntime==1.31.1 onnx==1.23.2 onnxconverter-common==1.16.0 sympy==1.14.0 numpy \
        onnxruntime-ep-openvino==1.8.1   # optional: adds the OpenVINO execution provider's rows
    python3 scripts/experiments/int8_prototype.py [--models DIR] [--media DIR] [--json OUT]

DIR default to $LIVEPOSE_MODELS (pose_landmark_{lite,full}.onnx, livepose's converted fp32
models) and $LIVEPOSE_MEDIA (the shared *.mp4 clips), as `scripts/test-data.sh` sets them.

What it does, per model (lite, full), on the model livepose runs: the segmentation head
pruned (`Identity_2` and the nodes only it needs, as `onnx::prune_outputs` does at load):

1. Real crops: every frame of every clip (ffmpeg, rgb24), cropped 256x256 (bilinear, upright)
   around the person the fp32 model itself tracks from frame to frame (the ROI from its
   landmarks 33 and 34, as MediaPipe's tracking does; the whole frame when it has lost the
   pose). Crops where the fp32 model's pose flag is >= 0.5 are kept; alternate ones go to
   calibration and to the held-out set.
2. Variants: static int8 (onnxruntime.quantization, calibrated on the calibration crops): QDQ
   per-channel (the issue's recipe), QDQ per-tensor, QOperator per-channel, QDQ with
   percentile calibration, QDQ with the first convolution and the output heads left in float,
   QDQ with depthwise convolutions left in float; dynamic int8;
   fp16 weights and compute (onnxconverter-common); session options on the fp32 model
   (graph optimisation level, denormals as zero); and, if its plugin package is installed,
   the OpenVINO execution provider (f32, bf16, f16 inference; the int8 QDQ model).
3. Speed with ONE intra-op thread, no spinning: all variants interleaved in the same run
   (round-robin, order rotated each round), `--runs` inferences per variant per round,
   `--rounds` rounds; per variant the median of the round medians, and its ratio to fp32
   (median of the per-round ratios, with their min and max).
4. Error against fp32 on the held-out crops: output 0 (195 floats: 39 landmarks x (x, y, z,
   visibility, presence) in pixels of the 256x256 crop); the x, y distance of each of the 33
   body landmarks divided by 256, pooled over crops: median and 95th percentile. The crop
   side stands in for the pose's size (a proxy: MediaPipe's crop is about 1.25x the pose).
   Also docs/fidelity.md's measure: per crop, the mean distance over the 33 divided by the
   diagonal of the fp32 pose's box; median and 95th percentile over crops.
"""
import argparse, glob, json, os, subprocess, sys, tempfile, time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

INPUT = "input_1"
SIZE = 256


# ---- models ---------------------------------------------------------------------------------

def pruned(path):
    """The landmark model without its segmentation head (`Identity_2`), as livepose loads it."""
    m = onnx.load(path)
    kept = [o for o in m.graph.output if o.name != "Identity_2"]
    del m.graph.output[:]
    m.graph.output.extend(kept)
    needed, nodes = {o.name for o in kept}, []
    for n in reversed(m.graph.node):
        if any(o in needed for o in n.output):
            nodes.append(n)
            needed.update(i for i in n.input if i)
    del m.graph.node[:]
    m.graph.node.extend(reversed(nodes))
    used = {i for n in m.graph.node for i in n.input}
    inits = [t for t in m.graph.initializer if t.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(inits)
    return m


def openvino_cpu():
    """The OpenVINO execution provider's CPU device (the `onnxruntime-ep-openvino` plugin), or None."""
    try:
        import onnxruntime_ep_openvino as ov
    except ImportError:
        return None
    if not any(d.ep_name == ov.get_ep_name() for d in ort.get_ep_devices()):
        ort.register_execution_provider_library("openvino_ep", ov.get_library_path())
    return next(d for d in ort.get_ep_devices() if d.ep_name == ov.get_ep_name() and d.ep_metadata.get("ov_device") == "CPU")


def session(model, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL, config=(), openvino=None):
    """One intra-op thread, no spinning; on the OpenVINO CPU device with these provider options
    if `openvino` is given."""
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = level
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    for k, v in config:
        o.add_session_config_entry(k, v)
    if openvino is not None:
        o.add_provider_for_devices([openvino_cpu()], openvino)
        return ort.InferenceSession(model, o)
    return ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])


# ---- crops ----------------------------------------------------------------------------------

def frames(clip):
    """All frames of a clip, rgb24, as (h, w, 3) uint8 arrays."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", clip], capture_output=True, text=True, check=True)
    w, h = map(int, probe.stdout.strip().split(",")[:2])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def crop(frame, cx, cy, side):
    """An upright side x side square centred at (cx, cy), bilinear to 256x256, floats in [0, 1],
    border replicated."""
    h, w, _ = frame.shape
    pos = (np.arange(SIZE) + 0.5) * side / SIZE - side / 2 - 0.5
    xs, ys = np.clip(cx + pos, 0, w - 1), np.clip(cy + pos, 0, h - 1)
    x0, y0 = np.minimum(xs.astype(int), w - 2), np.minimum(ys.astype(int), h - 2)
    fx, fy = (xs - x0)[None, :, None], (ys - y0)[:, None, None]
    f = frame.astype(np.float32)
    top = f[y0][:, x0] * (1 - fx) + f[y0][:, x0 + 1] * fx
    bottom = f[y0 + 1][:, x0] * (1 - fx) + f[y0 + 1][:, x0 + 1] * fx
    return ((top * (1 - fy) + bottom * fy) / 255.0).astype(np.float32)[None]


def tracked_crops(clip, model):
    """Crops around the pose that `model` (fp32) tracks through the clip, with its pose flag >= 0.5."""
    out, roi = [], None
    for frame in frames(clip):
        h, w, _ = frame.shape
        for _ in range(2):  # from the previous ROI (or the whole frame), then from this frame's own
            cx, cy, side = roi or (w / 2, h / 2, max(w, h))
            x = crop(frame, cx, cy, side)
            lm, flag = model.run(["Identity", "Identity_1"], {INPUT: x})
            if flag.item() < 0.5:
                roi = None
                break
            lm = lm.reshape(39, 5)[:, :2] * side / SIZE + [cx - side / 2, cy - side / 2]
            centre, scale = lm[33], lm[34]
            roi = (centre[0], centre[1], 2 * np.linalg.norm(scale - centre) * 1.25)
        else:
            out.append(x)
    return out


# ---- variants -------------------------------------------------------------------------------

class Reader(CalibrationDataReader):
    def __init__(self, data):
        self.it = iter(data)

    def get_next(self):
        x = next(self.it, None)
        return None if x is None else {INPUT: x}


def depthwise_nodes(model_path):
    m = onnx.load(model_path)
    return [n.name for n in m.graph.node if n.op_type == "Conv"
            and any(a.name == "group" and a.i > 1 for a in n.attribute)]


def head_nodes(model_path):
    """The nodes from each graph output back to (and including) its last Conv, and the first Conv:
    the layers usually left in float when quantising."""
    m = onnx.load(model_path)
    producer = {o: n for n in m.graph.node for o in n.output}
    names = [next(n.name for n in m.graph.node if n.op_type == "Conv")]
    for out in m.graph.output:
        todo = [out.name]
        while todo:
            n = producer.get(todo.pop())
            if n is None or n.name in names:
                continue
            names.append(n.name)
            if n.op_type != "Conv":
                todo += [i for i in n.input if i in producer]
    return names


def build_variants(fp32_path, tmp, calibration):
    """(label, model path or None, session kwargs, note); a None path is a failure, the note says why."""
    pre = f"{tmp}/pre.onnx"
    quant_pre_process(fp32_path, pre)
    variants = [
        ("fp32 (livepose today: optimisation ALL)", fp32_path, {}, ""),
        ("fp32, optimisation EXTENDED", fp32_path, {"level": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED}, ""),
        ("fp32, denormals as zero", fp32_path, {"config": [("session.set_denormal_as_zero", "1")]}, ""),
    ]
    common = dict(activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    static = [
        ("int8 QDQ per-channel, MinMax (issue's recipe)", dict(quant_format=QuantFormat.QDQ, per_channel=True)),
        ("int8 QDQ per-tensor, MinMax", dict(quant_format=QuantFormat.QDQ, per_channel=False)),
        ("int8 QOperator per-channel, MinMax", dict(quant_format=QuantFormat.QOperator, per_channel=True)),
        ("int8 QDQ per-channel, Percentile 99.999", dict(quant_format=QuantFormat.QDQ, per_channel=True,
                                                         calibrate_method=CalibrationMethod.Percentile)),
        ("int8 QDQ per-channel, first conv and output heads left fp32", dict(
            quant_format=QuantFormat.QDQ, per_channel=True, nodes_to_exclude=head_nodes(pre))),
        ("int8 QDQ per-channel, depthwise left fp32", dict(quant_format=QuantFormat.QDQ, per_channel=True,
                                                           nodes_to_exclude=depthwise_nodes(pre))),
    ]
    for i, (label, kw) in enumerate(static):
        q = f"{tmp}/static{i}.onnx"
        t = time.time()
        try:
            quantize_static(pre, q, Reader(calibration), **common, **kw,
                            extra_options={"CalibMaxIntermediateOutputs": 32})
            variants.append((label, q, {}, f"quantised in {time.time() - t:.0f} s"))
        except Exception as e:  # noqa: BLE001 - a failed variant is a result too
            variants.append((label, None, {}, f"failed: {type(e).__name__}: {str(e)[:120]}"))
    q = f"{tmp}/dynamic.onnx"
    try:
        quantize_dynamic(pre, q, weight_type=QuantType.QUInt8, per_channel=False)
        variants.append(("int8 dynamic (ConvInteger)", q, {}, ""))
    except Exception as e:  # noqa: BLE001
        variants.append(("int8 dynamic (ConvInteger)", None, {}, f"failed: {type(e).__name__}: {str(e)[:120]}"))
    try:
        from onnxconverter_common import float16
        m16 = float16.convert_float_to_float16(onnx.load(fp32_path), keep_io_types=True)
        q = f"{tmp}/fp16.onnx"
        onnx.save(m16, q)
        variants.append(("fp16 weights and compute (I/O fp32)", q, {}, ""))
    except Exception as e:  # noqa: BLE001
        variants.append(("fp16 weights and compute (I/O fp32)", None, {}, f"failed: {type(e).__name__}: {str(e)[:120]}"))
    if openvino_cpu() is not None:
        def ov(precision):
            return {"load_config": json.dumps({"CPU": {"INFERENCE_NUM_THREADS": "1", "NUM_STREAMS": "1",
                                                      "INFERENCE_PRECISION_HINT": precision}})}
        recipe = next(v[1] for v in variants if "issue's recipe" in v[0])
        variants += [
            ("OpenVINO EP, fp32 model, f32 inference", fp32_path, {"openvino": ov("f32")}, ""),
            ("OpenVINO EP, fp32 model, bf16 inference", fp32_path, {"openvino": ov("bf16")}, ""),
            ("OpenVINO EP, fp32 model, f16 inference", fp32_path, {"openvino": ov("f16")}, ""),
            ("OpenVINO EP, int8 QDQ model (issue's recipe), f32", recipe, {"openvino": ov("f32")}, ""),
        ]
    return variants


# ---- measurement ----------------------------------------------------------------------------

def error(ref, sess, held_out):
    """Against `ref`, on output 0's 33 body landmarks (x, y): (a) each landmark's distance / 256,
    pooled over crops; (b) fidelity.md's measure: per crop, the mean distance over the 33
    divided by the diagonal of `ref`'s pose box. Median and 95th percentile of each."""
    d, per_pose = [], []
    for x in held_out:
        a = ref.run(["Identity"], {INPUT: x})[0].reshape(39, 5)[:33, :2]
        b = sess.run(["Identity"], {INPUT: x})[0].reshape(39, 5)[:33, :2]
        dist = np.linalg.norm(a - b, axis=1)
        d.append(dist / SIZE)
        per_pose.append(dist.mean() / np.linalg.norm(a.max(0) - a.min(0)))
    d = np.concatenate(d)
    return [float(f(v)) for v in (d, per_pose) for f in (np.median, lambda v: np.percentile(v, 95))]


def timings(sessions, inputs, rounds, runs):
    """Round-robin: every round runs each session `runs` times (order rotated). Returns, per
    session, the per-round medians in ms, and the process CPU time over wall time of all its
    runs (about 1.0 when one core does the work)."""
    per_round, cpu, wall = {k: [] for k in sessions}, {k: 0.0 for k in sessions}, {k: 0.0 for k in sessions}
    keys = list(sessions)
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            s, ts = sessions[k], []
            c0, w0 = time.process_time(), time.perf_counter()
            for i in range(runs):
                x = inputs[i % len(inputs)]
                t = time.perf_counter()
                s.run(None, {INPUT: x})
                ts.append(time.perf_counter() - t)
            cpu[k] += time.process_time() - c0
            wall[k] += time.perf_counter() - w0
            per_round[k].append(1000 * float(np.median(ts)))
    return per_round, {k: cpu[k] / wall[k] for k in keys}


def op_profile(path, x, runs=30):
    """ms per inference by op type, from ONNX Runtime's profiler (one thread)."""
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    o.enable_profiling = True
    o.profile_file_prefix = os.path.join(tempfile.gettempdir(), "livepose_int8_profile")
    s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
    for _ in range(runs):
        s.run(None, {INPUT: x})
    profile = s.end_profiling()
    per_op = {}
    for e in json.load(open(profile)):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"]["op_name"]
            per_op[op] = per_op.get(op, 0.0) + e["dur"] / runs / 1000
    os.remove(profile)
    return dict(sorted(per_op.items(), key=lambda kv: -kv[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.environ.get("LIVEPOSE_MODELS"))
    ap.add_argument("--media", default=os.environ.get("LIVEPOSE_MEDIA"))
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--calibration", type=int, default=300, help="at most this many calibration crops")
    ap.add_argument("--only", nargs="*", default=["lite", "full"])
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args()
    if not a.models or not a.media:
        sys.exit("set LIVEPOSE_MODELS and LIVEPOSE_MEDIA (scripts/test-data.sh) or pass --models/--media")
    print(f"onnxruntime {ort.__version__}, {os.cpu_count()} cores, one intra-op thread", flush=True)
    results = {"onnxruntime": ort.__version__, "rounds": a.rounds, "runs": a.runs, "models": {}}
    for name in a.only:
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = f"{tmp}/fp32.onnx"
            onnx.save(pruned(f"{a.models}/pose_landmark_{name}.onnx"), fp32)
            ref = session(fp32)
            data = []
            for clip in sorted(glob.glob(f"{a.media}/*.mp4")):
                c = tracked_crops(clip, ref)
                print(f"{name}: {os.path.basename(clip)}: {len(c)} crops", flush=True)
                data += c
            calibration, held_out = data[0::2][:a.calibration], data[1::2]
            print(f"{name}: {len(calibration)} calibration crops, {len(held_out)} held out", flush=True)
            variants = build_variants(fp32, tmp, calibration)
            sessions, rows = {}, []
            for label, path, kw, note in variants:
                row = {"variant": label, "note": note}
                if path is not None:
                    try:
                        s = session(path, **kw)
                        for x in held_out[:10]:
                            s.run(None, {INPUT: x})
                        sessions[label] = s
                        row["size_bytes"] = os.path.getsize(path)
                        (row["error_median"], row["error_p95"],
                         row["pose_error_median"], row["pose_error_p95"]) = error(ref, s, held_out)
                    except Exception as e:  # noqa: BLE001
                        row["note"] = f"session failed: {type(e).__name__}: {str(e)[:160]}"
                rows.append(row)
                print(f"{name}: {label}: {row}", flush=True)
            per_round, cores = timings(sessions, held_out[:a.runs], a.rounds, a.runs)
            base = per_round[variants[0][0]]
            for row in rows:
                if row["variant"] in per_round:
                    ms = per_round[row["variant"]]
                    ratios = [b / m for b, m in zip(base, ms)]
                    row.update(cpu_per_wall=cores[row["variant"]], ms=float(np.median(ms)), ms_min=min(ms), ms_max=max(ms), speedup=float(np.median(ratios)),
                               speedup_min=min(ratios), speedup_max=max(ratios))
            profiles = {}
            for label, path, _, _ in variants[:1] + [v for v in variants if v[0].startswith("int8 QDQ per-channel, MinMax")]:
                if path is not None:
                    profiles[label] = op_profile(path, held_out[0])
                    top = ", ".join(f"{k} {v:.2f}" for k, v in list(profiles[label].items())[:6])
                    print(f"{name}: {label}: by op type (ms): {top}", flush=True)
            results["models"][name] = {"profiles": profiles, "calibration": len(calibration), "held_out": len(held_out), "variants": rows}
    print()
    print("| variant | model | ms per inference (median of rounds, min–max) | fp32 / variant (min–max) | "
          "landmark error / 256, median | p95 | per pose / box diagonal, median | p95 | CPU / wall | notes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results["models"].items():
        for row in r["variants"]:
            if "ms" in row:
                print(f"| {row['variant']} | {name} | {row['ms']:.2f} ({row['ms_min']:.2f}–{row['ms_max']:.2f}) | "
                      f"{row['speedup']:.2f}x ({row['speedup_min']:.2f}–{row['speedup_max']:.2f}) | "
                      f"{row['error_median']:.4f} | {row['error_p95']:.4f} | {row['pose_error_median']:.4f} | "
                      f"{row['pose_error_p95']:.4f} | {row['cpu_per_wall']:.2f} | {row['note']} |")
            else:
                print(f"| {row['variant']} | {name} | — | — | — | — | — | — | — | {row['note']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
