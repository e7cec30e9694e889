#!/usr/bin/env bash
# Installs ONNX Runtime for livepose's inference: the `onnxruntime` package from PyPI, whose
# wheel carries libonnxruntime.so. livepose finds it by asking python3 where the package is
# (or use ORT_DYLIB_PATH). Idempotent.
set -euo pipefail
version=${LIVEPOSE_ORT_VERSION:-1.31.1}
have=$(python3 -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null || true)
if [ "$have" != "$version" ]; then
  echo "setup-ort: installing onnxruntime==$version from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "onnxruntime==$version"
fi
python3 -c 'import onnxruntime, os; print("setup-ort: onnxruntime", onnxruntime.__version__, "in", os.path.dirname(onnxruntime.__file__))'
