#!/usr/bin/env bash
# The Python package as a user gets it: maturin builds the wheel, a fresh virtualenv
# installs it (numpy and onnxruntime come from PyPI as its dependencies), then stubtest
# checks the type stubs against the module and pytest runs livepose-py/tests (codec golden
# vectors, pipeline and fidelity smoke test, slot, server, errors, the FastAPI example, the
# Socket.IO endpoint with python-socketio's client).
# LIVEPOSE_WHEEL_PROFILE=release builds an optimised wheel; CI uses the dev profile
# (dependencies optimised, see Cargo.toml), which reuses the test build and saves minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${LIVEPOSE_WHEEL_PROFILE:-dev}
venv=target/py-venv
rm -rf "$venv" target/wheels
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2"
"$venv/bin/maturin" build --profile "$profile" -m livepose-py/Cargo.toml -o target/wheels --quiet
"$venv/bin/pip" install -q --disable-pip-version-check target/wheels/livepose-*.whl \
  "pytest>=7" "fastapi>=0.110" "httpx>=0.27" "mypy>=1.10" \
  "python-socketio[client]>=5.11" "websocket-client>=1.7"
echo "== stubtest: the type stubs match the module"
"$venv/bin/python" -m mypy.stubtest livepose
echo "== pytest livepose-py/tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider livepose-py/tests
