#!/bin/bash
# Refresh docs/screenshots/ from the browser language walk (every page, Chinese and English, on the demo city):
# the test saves full-page screenshots in tests/artifacts/screens/; they are copied here in 256 colours.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider tests/browser/test_language_browser.py tests/browser/test_emergency_browser.py
.venv/bin/python - <<'PY'
from pathlib import Path

from PIL import Image

for src in sorted([*Path("tests/artifacts/screens").glob("*.png"),
                  *Path("tests/artifacts").glob("emergency_incident_*.png")]):
    Image.open(src).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        Path("docs/screenshots") / src.name, optimize=True)
PY
