#!/usr/bin/env bash
# make image: lay out the function as `faas-cli build --shrinkwrap` does (the template folder with
# the handler in function/) and build it with a plain `docker build`.
#   IMAGE=remove-bg:latest REMBG_MODEL=u2net BASE_IMAGE=... scripts/build-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-remove-bg:latest}
model=${REMBG_MODEL:-u2net}
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

echo "building $image (model $model, base $base)" >&2
docker build --network host --build-arg "BASE_IMAGE=$base" --build-arg "REMBG_MODEL=$model" -t "$image" "$context"
docker image inspect "$image" --format 'image {{.RepoTags}}: {{.Size}} bytes'
