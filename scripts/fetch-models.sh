#!/usr/bin/env bash
# Same as `livepose models fetch [folder]` (MediaPipe's models from npm, SHA-256 checked,
# converted to ONNX), for a checkout without the command installed: builds and runs it.
#   scripts/fetch-models.sh [folder]     default: $LIVEPOSE_MODELS, else ~/.cache/livepose/models
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --locked --profile "${LIVEPOSE_CARGO_PROFILE:-dev}" --bin livepose -- models fetch "$@"
