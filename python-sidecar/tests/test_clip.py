"""CLIP in the sidecar: the image transform, the 77-token text side, and POST /clip/embed on a tiny model."""

import base64
import io
from pathlib import Path

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import numpy_helper
from PIL import Image

from sluice_sidecar.app import create_app
from sluice_sidecar.clip import CLIP_MEAN, CLIP_STD, CONTEXT_LENGTH, ClipTokenizer, preprocess
from sluice_sidecar.settings import Settings
from tests.tiny_clip import build_tiny_clip

DIMENSIONS = 32


def normalised_colour(rgb: tuple[int, int, int]) -> np.ndarray:
    return (np.array(rgb, dtype=np.float32) / 255 - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)


def striped(size: tuple[int, int], stripes: list[tuple[int, tuple[int, int, int]]], vertical: bool) -> Image.Image:
    """Bands of colour: (start, colour) pairs, across the width (vertical bands) or down the height."""
    image = Image.new("RGB", size)
    width, height = size
    for position, (start, colour) in enumerate(stripes):
        end = stripes[position + 1][0] if position + 1 < len(stripes) else (width if vertical else height)
        box = (start, 0, end, height) if vertical else (0, start, width, end)
        image.paste(colour, box)
    return image


def encoded(image: Image.Image, image_format: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_solid_image_becomes_a_normalised_224_square_tensor():
    tensor = preprocess(Image.new("RGB", (300, 200), (255, 128, 0)))
    assert tensor.shape == (3, 224, 224)
    assert tensor.dtype == np.float32
    expected = normalised_colour((255, 128, 0))
    for channel in range(3):
        assert np.allclose(tensor[channel], expected[channel], atol=1e-5)


@pytest.mark.parametrize(("size", "vertical"), [((448, 224), True), ((896, 448), True), ((224, 448), False), ((300, 600), False)])
def test_the_long_side_is_cropped_at_the_centre(size, vertical):
    long_side = size[0] if vertical else size[1]
    # Red, then the middle half green, then blue: after the shortest side goes to 224, the centre 224 is green.
    image = striped(size, [(0, (255, 0, 0)), (long_side // 4, (0, 255, 0)), (3 * long_side // 4, (0, 0, 255))], vertical)
    tensor = preprocess(image)
    assert tensor.shape == (3, 224, 224)
    # Bicubic resampling blends a couple of pixels at a band's edge when the image is scaled.
    inner = tensor[:, :, 4:-4] if vertical else tensor[:, 4:-4, :]
    green = normalised_colour((0, 255, 0))
    for channel in range(3):
        assert np.allclose(inner[channel], green[channel], atol=0.05), f"channel {channel}"


@pytest.mark.parametrize("size", [(640, 480), (300, 901), (225, 224)])
def test_the_crop_matches_resizing_whole_then_cropping(size):
    """What torchvision's Resize(224, bicubic) + CenterCrop(224) gives, to one level in a few pixels."""
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    scale = 224 / min(size)
    resized_size = (max(224, int(size[0] * scale)), max(224, int(size[1] * scale)))
    resized = image.resize(resized_size, Image.Resampling.BICUBIC)
    left, top = round((resized_size[0] - 224) / 2), round((resized_size[1] - 224) / 2)
    reference = np.asarray(resized.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
    got = preprocess(image) * np.array(CLIP_STD, dtype=np.float32)[:, None, None] + np.array(CLIP_MEAN, dtype=np.float32)[:, None, None]
    difference = np.abs(got.transpose(1, 2, 0) - reference)
    assert difference.max() <= 1.5 / 255 and difference.mean() < 0.01 / 255


def test_a_thin_strip_costs_one_crop_not_a_huge_resize():
    strip = Image.new("RGB", (1, 200_000), (0, 0, 255))
    assert np.allclose(preprocess(strip)[2], normalised_colour((0, 0, 255))[2], atol=1e-5)


@pytest.mark.parametrize(("image", "rgb"), [
    (Image.new("L", (224, 224), 200), (200, 200, 200)),
    (Image.new("RGB", (224, 224), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE), (10, 200, 30)),
    (Image.new("RGBA", (224, 224), (90, 60, 30, 255)), (90, 60, 30)),
])
def test_grey_palette_and_alpha_images_come_in_as_three_channels(image, rgb):
    tensor = preprocess(image)
    assert tensor.shape == (3, 224, 224)
    expected = normalised_colour(rgb)
    for channel in range(3):
        assert np.allclose(tensor[channel], expected[channel], atol=1e-5)


def test_preprocessor_config_sets_the_normalisation(tmp_path):
    from sluice_sidecar.clip import _read_preprocessing

    (tmp_path / "preprocessor_config.json").write_text(
        '{"crop_size": {"height": 224, "width": 224}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}')
    settings = _read_preprocessing(tmp_path / "preprocessor_config.json")
    tensor = preprocess(Image.new("RGB", (230, 224), (255, 0, 255)), settings)
    assert np.allclose(tensor[0], 1) and np.allclose(tensor[1], -1) and np.allclose(tensor[2], 1)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    build_tiny_clip(directory / "clip" / "tiny", DIMENSIONS)
    build_tiny_clip(directory / "clip" / "tiny-open-clip", DIMENSIONS, open_clip=True)
    return directory


def test_texts_become_77_ids_from_the_start_token_to_the_end_token(models_dir):
    tokenizer = ClipTokenizer(models_dir / "clip" / "tiny" / "tokenizer.json")
    ids, mask = tokenizer.encode(["A photo of a cat", " ".join(["dog"] * 200), ""])
    assert ids.shape == mask.shape == (3, CONTEXT_LENGTH)
    assert mask[0].sum() == 7 and mask[2].sum() == 2
    assert ids[0, 0] == tokenizer.start_id and ids[0, 6] == tokenizer.end_id
    assert (ids[0, 7:] == tokenizer.pad_id).all() and (mask[0, 7:] == 0).all()
    # Truncated to the context, the end token kept last.
    assert mask[1].sum() == CONTEXT_LENGTH and ids[1, -1] == tokenizer.end_id and ids[1, 0] == tokenizer.start_id


@pytest.fixture(scope="module")
def client(models_dir):
    with TestClient(create_app(Settings(models_dir=models_dir, cpu_threads=1))) as http:
        yield http


def embed(client, inputs, model="tiny"):
    return client.post("/clip/embed", json={"model": model, "inputs": inputs})


def test_mixed_texts_and_images_come_back_in_order_unit_length_in_one_space(client, models_dir):
    cat = encoded(Image.new("RGB", (320, 240), (200, 30, 30)))
    dog = encoded(striped((224, 300), [(0, (10, 10, 200)), (150, (250, 250, 250))], vertical=False))
    inputs = [{"text": "a photo of a cat"}, {"image": cat}, {"text": "blue dog"}, {"image": dog}]
    response = embed(client, inputs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dimensions"] == DIMENSIONS and body["images"] == 2
    vectors = np.array(body["data"])
    assert vectors.shape == (4, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # The start and end tokens count: 2 + 5 words, 2 + 2.
    assert body["prompt_tokens"] == 7 + 4
    # Each vector is the one its input gets alone: nothing is swapped by batching texts and images apart.
    for index, item in enumerate(inputs):
        alone = np.array(embed(client, [item]).json()["data"][0])
        assert np.allclose(vectors[index], alone, atol=1e-6), f"input {index}"
    assert not np.allclose(vectors[1], vectors[3], atol=1e-3)


@pytest.mark.parametrize("model", ["tiny", "tiny-open-clip"])
def test_a_text_vector_is_the_text_tower_over_its_77_ids(client, models_dir, model):
    """Xenova's export (input_ids + attention_mask → last_hidden_state, text_embeds) and open_clip's (one input, one output)."""
    directory = models_dir / "clip" / model
    table = numpy_helper.to_array(onnx.load(str(directory / "onnx" / "text_model.onnx")).graph.initializer[0])
    tokenizer = ClipTokenizer(directory / "tokenizer.json")
    ids, mask = tokenizer.encode(["Red square on white"])
    expected = table[ids[0][mask[0] == 1]].sum(axis=0)
    expected /= np.linalg.norm(expected)
    got = np.array(embed(client, [{"text": "Red square on white"}, {"text": "a dog"}], model=model).json()["data"][0])
    assert np.allclose(got, expected, atol=1e-5)


def test_the_same_pixels_in_another_format_give_the_same_vector(client):
    image = striped((400, 300), [(0, (0, 120, 40)), (200, (240, 200, 10))], vertical=True)
    vectors = np.array(embed(client, [{"image": encoded(image, "PNG")}, {"image": encoded(image, "BMP")}]).json()["data"])
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("image", "code"), [
    (base64.b64encode(b"not an image at all, just text").decode(), "invalid_image"),
    ("@@not base64@@", "invalid_image"),
])
def test_a_bad_image_is_a_400_naming_its_input(client, image, code):
    response = embed(client, [{"text": "a cat"}, {"image": image}])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["param"] == "input[1].image"


@pytest.mark.parametrize("inputs", [[], [{"text": "a", "image": "b"}], [{"audio": "x"}], ["a bare string"]])
def test_a_malformed_request_is_a_400(client, inputs):
    assert embed(client, inputs).status_code == 400


def test_missing_weights_are_a_503_naming_the_files_and_the_pull_command(tmp_path):
    with TestClient(create_app(Settings(models_dir=tmp_path))) as http:
        response = embed(http, [{"text": "a cat"}], model="clip-vit-b-32")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "model_weights_missing"
        assert str(tmp_path / "clip" / "clip-vit-b-32" / "onnx" / "vision_model.onnx") in error["message"]
        assert "sluice models pull Xenova/clip-vit-base-patch32" in error["message"]
        assert "--dest clip/clip-vit-b-32" in error["message"]
        assert http.get("/health").json()["status"] == "ok"


def test_a_model_name_cannot_leave_the_clip_folder(client):
    response = embed(client, [{"text": "a cat"}], model="../../etc")
    assert response.status_code == 400 and response.json()["error"]["param"] == "model"
