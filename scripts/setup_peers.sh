#!/usr/bin/env bash
# Install the Python peer tools used by scripts/compare_networkx.py and scripts/spopt_site.py into a virtualenv OUTSIDE the
# repository ($HOME/.cache/peers/venv, override with PEERS_VENV). Idempotent: an existing venv is
# reused and pip skips packages that are already installed. pandana is optional (it needs a
# compiler toolchain on some platforms): if it fails to install, the script says so and continues.
set -euo pipefail

VENV="${PEERS_VENV:-$HOME/.cache/peers/venv}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating venv $VENV"
    "$PY" -m venv "$VENV"
else
    echo "reusing venv $VENV"
fi

PIP="$VENV/bin/pip"
"$PIP" install --quiet --upgrade pip
"$PIP" install --quiet networkx scipy numpy pandas tifffile imagecodecs shapely  # shapely/tifffile: tests/reference scripts

"$PIP" install --quiet spopt pulp  # facility siting peer (spopt 0.7 + CBC through PuLP)

if "$PIP" install --quiet pandana; then
    echo "pandana installed"
else
    echo "WARNING: pandana failed to install; compare_networkx.py will skip it" >&2
fi

"$VENV/bin/python" - <<'PY'
import importlib
for name in ("networkx", "scipy", "numpy", "pandas", "spopt", "pulp", "pandana"):
    try:
        m = importlib.import_module(name)
        print(f"{name:10s} {getattr(m, '__version__', '?')}")
    except Exception as exc:  # pandana is optional
        print(f"{name:10s} NOT AVAILABLE ({type(exc).__name__}: {exc})")
PY
echo "python: $VENV/bin/python"
