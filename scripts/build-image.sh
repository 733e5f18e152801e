#!/usr/bin/env bash
# make image: lay out the function as `faas-cli build --shrinkwrap` does (the template folder with
# the handler in function/) and build it with a plain `docker build`.
#   IMAGE=remove-bg:latest REMBG_MODEL=u2net REMBG_CORE_MODEL= BASE_IMAGE=... scripts/build-image.sh
# A file given as MODEL_FILE is baked in, pinned by MODEL_MD5 when given: the operator's own model for
# dis_custom or u2net_custom, or a file that stands in for the model's own (MODEL=isnet-general-use-int8
# with an int8 file made elsewhere). Else an int8 model made here (make quantize) is baked in as it is,
# or quantized in the build.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-remove-bg:latest}
model=${REMBG_MODEL:-u2net-int8}
core=${REMBG_CORE_MODEL:-}
file=${MODEL_FILE:-}
context=build/image/remove-bg

scripts/docker-engine.sh
base=${BASE_IMAGE:-}
if [ -z "$base" ]; then
  if docker image inspect python:3.11-slim >/dev/null 2>&1 || timeout 30 docker pull -q python:3.11-slim >/dev/null 2>&1; then
    base=python:3.11-slim
  else
    echo "no image registry reachable: building a local Debian bookworm base" >&2
    base=remove-bg-base:bookworm
    scripts/local-base.sh "$base"
  fi
fi

rm -rf "$context"
mkdir -p "$(dirname "$context")"
cp -r template/python3-rembg "$context"
rm -rf "$context/function"
cp -r functions/remove-bg "$context/function"
find "$context" -name __pycache__ -prune -exec rm -rf {} +
path=
quantized=${U2NET_HOME:-.models}/custom/$model.onnx
if [ -z "$file" ] && [ "${model%-int8}" != "$model" ] && [ -f "$quantized" ]; then
  cp "$quantized" "$context/models/"  # the int8 file made here (make quantize), the one the tests ran
elif [ -n "$file" ]; then
  cp "$file" "$context/models/"
  path=/opt/models/custom/$(basename "$file")
  echo "baking $file into $image: mind its licence before pushing this image anywhere" >&2
fi

echo "building $image (model $model${core:+ with the core of $core}${path:+ from $path}, base $base)" >&2
docker build --network host --build-arg "BASE_IMAGE=$base" --build-arg "REMBG_MODEL=$model" \
  --build-arg "REMBG_CORE_MODEL=$core" --build-arg "REMBG_MODEL_PATH=$path" --build-arg "REMBG_MODEL_MD5=${MODEL_MD5:-}" \
  -t "$image" "$context"
docker image inspect "$image" --format 'image {{.RepoTags}}: {{.Size}} bytes'
