"""make image-contents: what the image is made of, measured inside it, with why each large part is there.

    python -m bench.image [IMAGE]        # default remove-bg:latest (make image)

Sizes are the files' own (apparent) sizes, walked inside the image; the image's size is Docker's.
"""

from __future__ import annotations

import json
import subprocess
import sys

from harness.quality import markdown_table

# Walked inside the image: each site-packages entry (a package's .libs folded into it), each model
# file, the function, and the rest of the filesystem (the Debian base and Python).
WALK = r"""
import json, os
def size(top):
    total = 0
    for root, dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total if os.path.isdir(top) else os.path.getsize(top)
site = "/opt/venv/lib/python3.11/site-packages"
parts = {}
for entry in os.listdir(site):
    key = entry.split(".libs")[0].split("-")[0].lower()
    parts["python: " + key] = parts.get("python: " + key, 0) + size(os.path.join(site, entry))
for root, dirs, files in os.walk("/opt/models"):
    for name in files:
        path = os.path.join(root, name)
        parts["model: " + os.path.relpath(path, "/opt/models")] = os.path.getsize(path)
parts["the function and its server (/home/app)"] = size("/home/app")
counted = sum(parts.values())
everything = sum(size(top) for top in ("/usr", "/opt", "/home", "/etc", "/var", "/root") if os.path.isdir(top))
parts["the Debian base and Python (/usr, /etc, /var)"] = everything - counted
packages = sorted(entry for entry in os.listdir("/home/app/function") if os.path.isdir(f"/home/app/function/{entry}"))
print(json.dumps({"parts": parts, "function": [name for name in packages if name != "__pycache__"]}))
"""

WHY = {
    "python: onnxruntime": "runs the model",
    "python: scipy": "rembg's SAM session imports scipy.ndimage, and rembg imports all its sessions together",
    "python: numpy": "arrays for ONNX Runtime and the mask",
    "python: pillow": "decodes, resizes and composes the photo",
    "python: pillow_heif": "HEIC/HEIF photos from phones (libheif, libde265)",
    "python: rembg": "the models' sessions: the same pre- and post-processing as rembg",
    "python: isal": "ISA-L's deflate for the PNG encoder",
    "python: google": "protobuf, which ONNX Runtime needs",
    "python: jsonschema": "rembg's SAM session",
    "python: rpds": "jsonschema's",
    "python: werkzeug": "Flask's: the template's HTTP app",
    "python: jinja2": "Flask's",
    "python: click": "Flask's",
    "python: packaging": "pooch's, which fetches rembg's models at build",
    "the Debian base and Python (/usr, /etc, /var)": "python:3.11-slim, or the same built locally with debootstrap",
}
# Import names folded into their distribution's row.
FOLDED = {"python: pil": "python: pillow"}
SHOWN_MB = 1.0
BUILD_SIDE = "prepare"  # function/prepare: runs in the build stage only


def contents(image: str) -> dict:
    """{"parts": bytes by part, "function": the function's packages in the image}."""
    command = ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", WALK]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def why(part: str) -> str:
    if part.startswith("model: optimized/"):
        return "ONNX Runtime's optimised copy of it, made at build for the build machine's CPU class"
    if part.startswith("model: "):
        return "the model (an int8 one: made at build or by make image, checked against rembg's md5-checked file)"
    return WHY.get(part, "")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    image = args[0] if args else "remove-bg:latest"
    parts: dict[str, int] = {}
    found = contents(image)
    for part, size in found["parts"].items():
        parts[FOLDED.get(part, part)] = parts.get(FOLDED.get(part, part), 0) + size
    total = int(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Size}}", image], check=True, capture_output=True, text=True
        ).stdout
    )
    big = sorted(((size, part) for part, size in parts.items() if size / 1e6 >= SHOWN_MB), reverse=True)
    rows = [[part, f"{size / 1e6:.0f}", why(part)] for size, part in big]
    small = sum(size for size in parts.values() if size / 1e6 < SHOWN_MB)
    rows.append(
        [f"{sum(1 for size in parts.values() if size / 1e6 < SHOWN_MB)} smaller parts", f"{small / 1e6:.0f}", ""]
    )
    title = f"{image}: {total / 1e6:.0f} MB (docker image inspect)"
    print(markdown_table(title, ["part", "MB", "why it is there"], rows))
    side = "absent" if BUILD_SIDE not in found["function"] else "PRESENT (it should not be)"
    print(f"\nthe function's packages: {', '.join(found['function'])}; the build side ({BUILD_SIDE}/): {side}")
    return 0 if BUILD_SIDE not in found["function"] else 1


if __name__ == "__main__":
    sys.exit(main())
