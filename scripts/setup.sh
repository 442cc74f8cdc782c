#!/usr/bin/env bash
# Creates .venv and installs bioscope into it. Idempotent: a second run with an unchanged
# pyproject.toml does nothing. Chooses the CPU build of torch where there is no CUDA GPU
# (an unpinned `torch` would pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
STAMP="$VENV/.bioscope-installed"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip_install() { "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        echo "setup: CUDA GPU found, installing the default (CUDA) torch build" >&2
        pip_install "torch>=2.1"
    else
        echo "setup: no CUDA GPU, installing the CPU build torch==2.13.0" >&2
        pip_install torch==2.13.0
    fi
fi
# the optional extras too: the test suite checks ONNX files with onnxruntime, validates the napari
# manifest and runs napari's viewer model, test-runs bioimage.io packages and counts with Dask
pip_install -e ".[dev,export,napari,bioimageio,dask]"
# real annotated nuclei (BSD-3, 6.9 MB) for `--data ndev-scratch-assay`: the data only; bioscope
# reads the TIFF itself, so the wheel's reader dependencies (bioio) are not needed
pip_install --no-deps ndev-sampledata==0.0.3
echo "$want" > "$STAMP"
