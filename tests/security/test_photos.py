"""A field report's photo keeps its pixels and nothing else (no comment, EXIF, GPS, XMP or ICC profile), and
large photos arriving together are decoded a few at a time, with memory bounded."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

from PIL import Image

from office.photos import clean_photo
from tests.conftest import ROOT

SECRET = b"shot by 13812345678 at 30.61N 114.30E"


def test_a_jpeg_comment_xmp_and_icc_profile_do_not_survive_the_re_encode():
    source = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>' + SECRET + b"</rdf:RDF></x:xmpmeta>"
    icc = b"\x00" * 128 + SECRET
    Image.new("RGB", (320, 240), "green").save(source, format="JPEG", comment=SECRET, xmp=xmp, icc_profile=icc)
    assert SECRET in source.getvalue()
    cleaned, width, height = clean_photo(source.getvalue(), "IMG_0003.jpg")
    assert SECRET not in cleaned and b"xmpmeta" not in cleaned
    image = Image.open(io.BytesIO(cleaned))
    assert (image.format, image.size) == ("JPEG", (width, height))
    assert not {"comment", "xmp", "icc_profile", "exif"} & set(image.info)


def test_a_png_text_chunk_does_not_survive_either():
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", SECRET.decode())
    source = io.BytesIO()
    Image.new("RGB", (50, 40), "red").save(source, format="PNG", pnginfo=meta)
    cleaned, *_ = clean_photo(source.getvalue(), "shot.png")
    assert SECRET not in cleaned


FOUR_AT_ONCE = textwrap.dedent("""
    import io, json, threading
    from concurrent.futures import ThreadPoolExecutor
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    from office.photos import clean_photo
    buf = io.BytesIO()
    Image.new("RGB", (8000, 5000), "white").save(buf, format="PNG")  # 40 megapixels, a few hundred kB
    data = buf.getvalue()
    start = threading.Barrier(4)
    def one(k):
        start.wait()
        return clean_photo(data, f"shot{k}.png")[1:]
    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(one, range(4)))
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
    print(json.dumps({"sizes": sizes, "peak_mb": peak}))
""")


def test_four_forty_megapixel_photos_at_once_are_decoded_a_few_at_a_time():
    run = subprocess.run([sys.executable, "-c", FOUR_AT_ONCE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["sizes"] == [[1600, 1000]] * 4
    assert got["peak_mb"] < 1000, got  # was 2,250 MB with every decode at once
