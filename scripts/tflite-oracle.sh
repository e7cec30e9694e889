#!/usr/bin/env bash
# Runs MediaPipe's .tflite models in the TFLite interpreter itself (ai-edge-litert from
# PyPI, reference kernels) on fixed inputs and keeps inputs and outputs, one .npz per model
# named by the model's SHA-256: the oracle livepose's converter tests compare the converted
# ONNX models against (livepose-core/tests/tflite_convert.rs, tflite_models.rs). Models
# already done are kept.
#   scripts/tflite-oracle.sh [models] [media] [out]
#     models  default: $LIVEPOSE_MODELS, else ~/.cache/livepose/models
#     media   default: $LIVEPOSE_MEDIA, else ~/.cache/livepose/media (two frames are cut
#             from the clips for real-image inputs)
#     out     default: $LIVEPOSE_TFLITE_ORACLE, else ~/.cache/livepose/tflite-oracle
# The interpreter lives in its own virtual environment, ~/.cache/livepose/tflite-venv
# (or $LIVEPOSE_TFLITE_VENV). Needs python3 (with venv) and ffmpeg.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
models=${1:-${LIVEPOSE_MODELS:-$cache/models}}
media=${2:-${LIVEPOSE_MEDIA:-$cache/media}}
out=${3:-${LIVEPOSE_TFLITE_ORACLE:-$cache/tflite-oracle}}
venv=${LIVEPOSE_TFLITE_VENV:-$cache/tflite-venv}
litert=ai-edge-litert==2.3.0

if ! "$venv/bin/python" -c 'import ai_edge_litert.interpreter' 2>/dev/null; then
  echo "tflite-oracle: installing $litert into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$litert"
fi
# TF_CPP_MIN_LOG_LEVEL: no INFO lines from the runtime.
TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" "$here/tflite_oracle.py" "$models" "$media" "$out"
