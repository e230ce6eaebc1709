#!/bin/sh
# Installs what the hearth-code-tiny training recipe needs on Debian 12 (bookworm), as root:
#   python3-torch 1.13 (CPU), numpy, the `regex` module (\p{L} classes for the pre-tokenizer), and OpenBLAS
#   (Debian's torch and numpy link the generic libblas.so.3: the reference BLAS is ~10x slower; installing
#   libopenblas0-pthread switches the alternative to OpenBLAS).
# Use /usr/bin/python3 to run the scripts (a pyenv or venv python on PATH does not see Debian's packages).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-torch python3-numpy python3-regex libopenblas0-pthread
/usr/bin/python3 -c 'import torch, numpy, regex; print("torch", torch.__version__, "numpy", numpy.__version__)'
