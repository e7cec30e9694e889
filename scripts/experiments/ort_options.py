#!/usr/bin/env python3
"""Where ONNX Runtime spends the BlazePose landmark models' time, and what int8 gives.

Not part of the test suite (it needs the `onnx` package: `pip install onnx`). Prints, for
the lite and full landmark models from ../shared/models, one intra-op thread, no spinning:

1. time per op type from ONNX Runtime's profiler, with and without the segmentation head
   (livepose prunes it at load, see livepose-core/src/onnx/graph.rs);
2. static int8 quantisation (QDQ, per-channel weights, calibrated on crops of the shared
   clips around MediaPipe's reference poses): time, and the landmark difference against
   the float model on held-out crops, in pixels of the 256x256 crop.

    python3 scripts/experiments/ort_options.py [../shared]
"""
import collections, json, os, subprocess, sys, tempfile, time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../shared")


def crops(clip, w, h, step):
    """256x256 float crops (nearest neighbour) around the reference poses of a clip."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", f"{SHARED}/media/{clip}.mp4", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    lines = open(f"{SHARED}/reference/{clip}.full.image.jsonl").read().splitlines()[1:]
    out = []
    for i in range(0, len(frames), step):
        for pose in json.loads(lines[i])["poses"]:
            lm = np.array(pose["landmarks"])[:, :2] * [w, h]
            (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
            cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 1.3
            ys = np.clip((cy - side / 2 + np.arange(256) * side / 256).astype(int), 0, h - 1)
            xs = np.clip((cx - side / 2 + np.arange(256) * side / 256).astype(int), 0, w - 1)
            out.append((frames[i][ys][:, xs].astype(np.float32) / 255.0)[None])
    return out


def session(model, profile=False):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    o.enable_profiling = profile
    o.profile_file_prefix = os.path.join(tempfile.gettempdir(), "livepose_ort_profile")
    return ort.InferenceSession(model, o)


def median_ms(s, x, n=60):
    for _ in range(10):
        s.run(None, {"input_1": x})
    times = []
    for _ in range(n):
        t = time.perf_counter()
        s.run(None, {"input_1": x})
        times.append(time.perf_counter() - t)
    return 1000 * sorted(times)[n // 2]


def without_segmentation(path):
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
    return m.SerializeToString()


def op_profile(model, x, runs=30):
    s = session(model, profile=True)
    for _ in range(runs):
        s.run(None, {"input_1": x})
    events = json.load(open(s.end_profiling()))
    per_op = collections.defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"] / runs / 1000
    return per_op


def main():
    data = crops("lab_dance_1080x1920_60fps", 1080, 1920, 5) + crops("outdoor_two_people_1768x994_30fps", 1768, 994, 12)
    calibration, held_out = data[::2], data[1::2]
    for name in ["pose_landmark_lite", "pose_landmark_full"]:
        path = f"{SHARED}/models/{name}.onnx"
        x = held_out[0]
        for label, model in [("as published", path), ("segmentation head pruned", without_segmentation(path))]:
            per_op = op_profile(model, x)
            total = sum(per_op.values())
            top = ", ".join(f"{k} {v:.2f} ms ({100 * v / total:.0f}%)" for k, v in sorted(per_op.items(), key=lambda kv: -kv[1])[:6])
            print(f"{name}, {label}: {median_ms(session(model), x):.2f} ms per run; by op: {top}")
        with tempfile.TemporaryDirectory() as tmp:
            pre, q = f"{tmp}/pre.onnx", f"{tmp}/int8.onnx"
            quant_pre_process(path, pre)

            class Reader(CalibrationDataReader):
                def __init__(self):
                    self.it = iter(calibration)

                def get_next(self):
                    x = next(self.it, None)
                    return None if x is None else {"input_1": x}

            quantize_static(pre, q, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8, per_channel=True)
            f32, i8 = session(path), session(q)
            diffs = []
            for c in held_out:
                a = f32.run(None, {"input_1": c})[0].reshape(39, 5)[:33, :2]
                b = i8.run(None, {"input_1": c})[0].reshape(39, 5)[:33, :2]
                diffs.append(np.linalg.norm(a - b, axis=1).mean())
            print(f"{name}, int8 QDQ: {median_ms(f32, x):.2f} ms float vs {median_ms(i8, x):.2f} ms int8; landmark "
                  f"difference on {len(held_out)} held-out crops: median {np.median(diffs):.1f} px, 95th percentile "
                  f"{np.percentile(diffs, 95):.1f} px of 256")


if __name__ == "__main__":
    main()
