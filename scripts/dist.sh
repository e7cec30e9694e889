#!/usr/bin/env bash
# Builds the packages of a release into dist/ (gitignored):
#   Python  livepose-<v>-cp39-abi3-manylinux_2_28_x86_64.whl  one wheel for CPython 3.9+,
#           linked with zig against glibc 2.28 and checked by auditwheel;
#           livepose-<v>.tar.gz                               the sdist (builds with cargo);
#   Node    livepose-<v>.tgz                                  the `livepose` package, no build
#           at install: its addon comes in the optional dependency
#           livepose-linux-x64-gnu-<v>.tgz                    @livepose/linux-x64-gnu (the
#           prebuilt livepose.linux-x64-gnu.node, glibc 2.28 too);
#   Rust    livepose-core-<v>.crate, livepose-client-<v>.crate, livepose-ws-<v>.crate, livepose-<v>.crate (cargo package,
#           each verified by a build against the others through a temporary local registry).
# scripts/check-dist.sh then installs them where cargo is not on PATH and runs a real frame.
#
# LIVEPOSE_DIST_PROFILE picks the cargo profile of the wheel and the addon: release (the
# default: what a release ships) or dev (our crates unoptimised, the dependencies at opt-level
# 2, see Cargo.toml: cheaper to compile, fast enough for check-dist.sh's frame; CI uses it, its
# packages are never published). Both build in one folder, LIVEPOSE_DIST_TARGET (default
# target/dist), for one target, x86_64-unknown-linux-gnu, with one zig setup: maturin --zig
# writes zig wrappers (linker, C compilers) and hands them to cargo in environment variables; a
# `cargo` first on PATH during the wheel's build records them and the addon builds with the
# same ones, so the dependencies the two share compile once (under another setup, e.g.
# cargo-zigbuild's, cargo would see another linker and rebuild them all).
# The crates' verification builds each crate as a workspace of its own, in the dev build's
# folder (CARGO_TARGET_DIR, default target/) and with the workspace's dev profile (Cargo.toml's
# [profile.dev] passed as --config flags, which a one-crate workspace would not see), so it
# reuses the dependencies the dev and test builds compiled.
# maturin, ziglang (zig as the linker) and auditwheel come from PyPI into a virtualenv of their
# own, target/dist-tools. --allow-dirty packages the crates from a work tree with uncommitted
# changes (cargo package refuses that by default).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
allow_dirty=()
for arg in "$@"; do
  case $arg in
    --allow-dirty) allow_dirty=(--allow-dirty) ;;
    *) echo "usage: scripts/dist.sh [--allow-dirty]" >&2; exit 2 ;;
  esac
done

# The dev build's folder (the crates' verification), then the packages' folder:
# LIVEPOSE_DIST_TARGET (CI points it at its cached build folder).
dev_target=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=${LIVEPOSE_DIST_TARGET:-$root/target/dist}
profile=${LIVEPOSE_DIST_PROFILE:-release}
case $profile in
  dev | test) profile_dir=debug ;;
  release | bench) profile_dir=release ;;
  *) profile_dir=$profile ;;
esac
glibc=2.28
out=$root/dist
# The tools' virtualenv at the build folder's real path (target/ may be a link, as in CI),
# made again if it no longer runs (a virtualenv hard-codes its own path).
mkdir -p "$root/target"
tools=$(realpath "$root/target")/dist-tools
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[ -n "$version" ] || { echo "dist: no version in [workspace.package]" >&2; exit 1; }
for manifest in livepose-node/package.json livepose-node/npm/linux-x64-gnu/package.json; do
  v=$(node -p "require('./$manifest').version")
  [ "$v" = "$version" ] || { echo "dist: $manifest has version $v, the workspace $version" >&2; exit 1; }
done
grep -q "^version = \"$version\"$" livepose-py/pyproject.toml \
  || { echo "dist: livepose-py/pyproject.toml is not at version $version" >&2; exit 1; }

echo "== tools: maturin, ziglang, auditwheel (PyPI) in target/dist-tools"
"$tools/bin/python" -c '' 2>/dev/null && "$tools/bin/pip" --version >/dev/null 2>&1 \
  || { rm -rf "$tools"; python3 -m venv "$tools"; }
"$tools/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2" ziglang auditwheel
export PATH=$tools/bin:$PATH

rm -rf "$out"
mkdir -p "$out"

echo "== Python wheel (abi3, manylinux_${glibc/./_}, zig, $profile profile)"
# The `cargo` maturin runs: records the variables maturin added for the build (the zig
# setup; pyo3's left out) in $zig/env, for the addon's build.
zig=$(mktemp -d)
trap 'rm -rf "$zig"' EXIT
compgen -e | sort > "$zig/before"
cat > "$zig/cargo" <<EOF
#!/usr/bin/env bash
if [ -n "\${CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER:-}" ]; then
  for name in \$(compgen -e | sort | comm -13 "$zig/before" -); do
    case \$name in PYO3_* | PYTHON_SYS_EXECUTABLE) ;; *) declare -p "\$name" ;; esac
  done > "$zig/env"
fi
exec "$(command -v cargo)" "\$@"
EOF
chmod +x "$zig/cargo"
PATH=$zig:$PATH maturin build --profile "$profile" --locked --zig --compatibility "manylinux_${glibc/./_}" \
  -m livepose-py/Cargo.toml -o "$out"
grep -q CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER "$zig/env" 2>/dev/null \
  || { echo "dist: maturin ran cargo without a zig linker" >&2; exit 1; }
wheel=$(ls "$out"/livepose-"$version"-cp39-abi3-manylinux*_x86_64.whl)
audit=$(auditwheel show "$wheel")
echo "$audit"
# auditwheel names the most compatible manylinux tag the wheel's symbols allow.
tag=$(echo "$audit" | tr '\n' ' ' | grep -oE 'platform tag: *"manylinux_2_[0-9]+_x86_64"' | head -1 \
  | grep -oE 'manylinux_2_[0-9]+')
minor=${tag#manylinux_2_}
[ -n "$tag" ] && [ "$minor" -le "${glibc#2.}" ] \
  || { echo "dist: auditwheel does not accept $wheel as manylinux_${glibc/./_} (${tag:-no tag})" >&2; exit 1; }
echo "auditwheel: $tag (the wheel is tagged manylinux_${glibc/./_})"

echo "== Python sdist"
maturin sdist -m livepose-py/Cargo.toml -o "$out"

echo "== Node addon (napi-rs, $profile profile, zig, glibc $glibc: the wheel's zig setup)"
(set -a && source "$zig/env" && set +a \
  && cargo build --profile "$profile" --locked -p livepose-node --lib --target x86_64-unknown-linux-gnu)
platform_dir=livepose-node/npm/linux-x64-gnu
addon=$platform_dir/livepose.linux-x64-gnu.node
cp "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/$profile_dir/liblivepose_node.so" "$addon"
strip --strip-unneeded "$addon"
# The newest glibc symbol version the addon asks for must not be above the target's.
newest=$(objdump -T "$addon" | grep -oE 'GLIBC_2\.[0-9]+' | sort -t. -k2,2n -u | tail -1)
echo "addon: needs $newest at most"
[ "${newest#GLIBC_2.}" -le "${glibc#2.}" ] || { echo "dist: the addon needs $newest" >&2; exit 1; }

echo "== npm packages"
npm pack --silent --pack-destination "$out" "./$platform_dir" >/dev/null
# The published `livepose`: the files of package.json's "files", without the development
# scripts (`prepare` builds the addon with cargo in a checkout), and with the platform
# package as an optional dependency (napi-rs's layout: npm installs the one for its machine).
stage=$CARGO_TARGET_DIR/npm-livepose
rm -rf "$stage"
mkdir -p "$stage"
(cd livepose-node && node -e '
  const fs = require("fs"), path = require("path");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  const stage = process.argv[1];
  for (const file of [...pkg.files, "README.md"]) fs.cpSync(file, path.join(stage, file), { recursive: true });
  delete pkg.scripts;
  const platform = JSON.parse(fs.readFileSync("npm/linux-x64-gnu/package.json", "utf8"));
  pkg.optionalDependencies = { [platform.name]: platform.version };
  fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
' "$stage")
npm pack --silent --pack-destination "$out" "$stage" >/dev/null

echo "== crates (cargo package, verified against a temporary local registry)"
# Cargo.toml's [profile.dev] as --config flags, and livepose's crates, which the verification
# takes from the local registry (so [profile.dev.package."*"] would match them), set back to
# the members' settings.
mapfile -t dev_profile < <(python3 - livepose-core livepose-client livepose-ws <<'EOF'
import json, sys, tomllib
with open("Cargo.toml", "rb") as f:
    manifest = tomllib.load(f)
dev = manifest["profile"]["dev"]
value = lambda v: str(v).lower() if isinstance(v, bool) else json.dumps(v)
base = {key: v for key, v in dev.items() if key != "package"}
for key, v in base.items():
    print(f"profile.dev.{key}={value(v)}")
for spec, table in dev.get("package", {}).items():
    for key, v in table.items():
        print(f'profile.dev.package."{spec}".{key}={value(v)}')
for member in sys.argv[1:]:
    print(f"profile.dev.package.{member}.opt-level={value(base.get('opt-level', 0))}")
    print(f"profile.dev.package.{member}.debug={value(base.get('debug', True))}")
EOF
)
CARGO_TARGET_DIR=$dev_target cargo package --locked "${dev_profile[@]/#/--config=}" "${allow_dirty[@]}" \
  -p livepose-core -p livepose-client -p livepose-ws -p livepose
for crate in livepose-core livepose-client livepose-ws livepose; do
  cp "$dev_target/package/$crate-$version.crate" "$out/"
done

echo "== dist/"
(cd "$out" && for f in *; do
  printf '%10s  %s\n' "$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")" "$f"
done)
(cd "$out" && sha256sum -- * > SHA256SUMS)
