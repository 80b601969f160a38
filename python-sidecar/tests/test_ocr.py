"""POST /ocr against the real service: text PIL draws in DejaVu Sans comes back, bad images are 400s."""

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from harness.spoken_corpus import word_error_rate

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LINES = ("Invoice number 4821", "Deliver to Harbour Street", "Total due: 312 dollars")
MAX_WORD_ERROR_RATE = 0.25  # 3 of the 12 words


def rendered_text(image_format: str, lines=LINES) -> bytes:
    if not FONT.is_file():
        pytest.fail(f"{FONT} is missing (Debian package fonts-dejavu-core): run make setup")
    font = ImageFont.truetype(str(FONT), 34)
    image = Image.new("RGB", (860, 90 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((40, 40 + row * 70), line, fill=(20, 20, 20), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, quality=90)
    return buffer.getvalue()


def post_image(client, content: bytes, filename: str, content_type: str):
    return client.post("/ocr", files={"file": (filename, content, content_type)})


@pytest.mark.parametrize(("image_format", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_rendered_lines_are_read_back(client, image_format, content_type):
    response = post_image(client, rendered_text(image_format), f"scan.{image_format.lower()}", content_type)
    assert response.status_code == 200, response.text
    body = response.json()
    # OCR output can differ by a character between machines (onnxruntime builds, JPEG decoders):
    # a word error rate bound, never one exact word; 0 here, so the margin is for other machines.
    wer = word_error_rate(" ".join(LINES), body["text"])
    assert wer <= MAX_WORD_ERROR_RATE, f"WER {wer:.2f} reading {LINES!r} as {body['text']!r}"
    assert body["text"] == "\n".join(line["text"] for line in body["lines"])
    assert len(body["lines"]) == len(LINES)
    tops = []
    for line in body["lines"]:
        assert 0 < line["confidence"] <= 1
        assert len(line["box"]) == 4 and all(len(point) == 2 for point in line["box"])
        tops.append(min(y for _, y in line["box"]))
    assert tops == sorted(tops), "lines come top to bottom"


def test_an_image_without_text_gives_no_lines(client):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "white").save(buffer, format="PNG")
    response = post_image(client, buffer.getvalue(), "blank.png", "image/png")
    assert response.status_code == 200
    assert response.json() == {"text": "", "lines": []}


BAD_IMAGES = [
    ("text file", "notes.png", b"These are notes, not pixels.\n" * 30, "image/png"),
    ("empty file", "empty.png", b"", "image/png"),
    ("truncated png", "cut.png", None, "image/png"),
]


@pytest.mark.parametrize(("label", "filename", "content", "content_type"), BAD_IMAGES,
                         ids=[row[0] for row in BAD_IMAGES])
def test_a_non_image_is_a_400_and_the_service_lives_on(client, label, filename, content, content_type):
    if content is None:
        content = rendered_text("PNG")[:200]
    response = post_image(client, content, filename, content_type)
    assert response.status_code == 400, label
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", "file", "invalid_image")
    assert client.get("/health").json()["status"] == "ok"
