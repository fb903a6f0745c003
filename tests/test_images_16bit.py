"""Images of 16 bits (Pillow modes I;16, I;16B, I) are read at full depth, not clipped to 8 bits by Pillow's
conversion to L: a folder of 16-bit copies (v * 257) of 8-bit images reads, trains and predicts as the
8-bit folder does, bit for bit; 16-bit files whose values fit in 8 bits read exactly as before."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from own_files import copy_as_16_bit, digit_images, save_png, write_split_folder
from PIL import Image

from msvdd.data import Folder
from msvdd.data.images import decode_image, decode_images
from msvdd.errors import ConfigError


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth")
    eight = write_split_folder(root / "f8")
    return {"f8": eight, "png": copy_as_16_bit(eight, root / "png"),
            "tiff": copy_as_16_bit(eight, root / "tiff", "tiff"),
            "tiff32": copy_as_16_bit(eight, root / "tiff32", "tiff32"),
            "mixed": copy_as_16_bit(eight, root / "mixed", every=2)}


def test_16_bit_pixels_keep_their_values(tmp_path):
    ramp = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)  # 0..63000: all but one above 255
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    Image.fromarray(ramp.astype(">u2")).save(tmp_path / "ramp.tif")
    for name, mode in (("ramp.png", "I;16"), ("ramp.tif", "I;16B")):
        assert Image.open(tmp_path / name).mode == mode
        img = decode_image(tmp_path / name, "gray", None)
        assert img.dtype == torch.int32 and torch.equal(img[0], torch.from_numpy(ramp.astype(np.int32)))
        assert torch.equal(decode_image(tmp_path / name, "rgb", None), img.expand(3, -1, -1))
    both = decode_images([tmp_path / "ramp.png", tmp_path / "ramp.tif"], "gray", 16)
    assert both.dtype == torch.int32 and both.shape == (2, 1, 16, 16) and int(both.max()) > 60000


@pytest.mark.parametrize("kind", ["png", "tiff", "tiff32", "mixed"])
@pytest.mark.parametrize("layout", ["split", "classes"])
def test_a_16_bit_copy_reads_as_the_8_bit_folder_bit_for_bit(folders, kind, layout):
    kwargs = {} if layout == "split" else {"layout": "classes", "normal_classes": ["train"], "test_size": 0.5}
    eight, sixteen = Folder(folders["f8"], **kwargs).load(), Folder(folders[kind], **kwargs).load()
    for field in ("x_train", "x_test", "y_train", "y_test", "labels_test"):
        assert torch.equal(getattr(eight, field), getattr(sixteen, field)), field
    assert eight.scale == sixteen.scale
    assert eight.preprocessing["max_value"] == 255 and sixteen.preprocessing["max_value"] == 65535


def test_a_resized_16_bit_copy_agrees_up_to_rounding(folders):
    eight, sixteen = Folder(folders["f8"], image_size=16).load(), Folder(folders["png"], image_size=16).load()
    assert eight.x_train.shape == sixteen.x_train.shape == (len(eight.x_train), 1, 16, 16)
    # resized at 16 bits, then rounded to integers: finer than the 8-bit resize, within its rounding
    assert float((eight.x_train - sixteen.x_train).abs().max()) < 0.02


def test_16_bit_files_of_8_bit_values_read_exactly_as_before(tmp_path):
    x, _ = digit_images()  # values 0..240
    for i, d in enumerate(["train", "train", "test/good", "test/bad"]):
        save_png(tmp_path / "f8" / d / f"{i}.png", x[i])
        (tmp_path / "f16" / d).mkdir(parents=True, exist_ok=True)
        Image.fromarray(x[i].astype(np.uint16)).save(tmp_path / "f16" / d / f"{i}.png")  # I;16, values <= 240
    for size in (None, 16):
        eight, sixteen = (Folder(tmp_path / f, image_size=size).load() for f in ("f8", "f16"))
        assert torch.equal(eight.x_train, sixteen.x_train) and torch.equal(eight.x_test, sixteen.x_test)
        assert sixteen.preprocessing["max_value"] == 255


def test_32_bit_values_outside_16_bits_are_refused(tmp_path):
    x, _ = digit_images()
    for i, d in enumerate(["train", "train", "test/good", "test/bad"]):
        save_png(tmp_path / d / f"{i}.png", x[i])
    Image.fromarray(np.full((8, 8), 70000, np.int32)).save(tmp_path / "train" / "bright.tif")
    with pytest.raises(ConfigError) as err:
        Folder(tmp_path).load()
    assert str(err.value).startswith(f"dataset.path='{tmp_path / 'train' / 'bright.tif'}'")
    assert "holds values 70000..70000" in str(err.value) and "0..65535" in str(err.value)


def _train(folder, root):
    """A run as a user starts one (its own process: in-process runs after the first differ by ~1e-6)."""
    import subprocess
    import sys

    from conftest import QUICK, ROOT

    proc = subprocess.run([sys.executable, "-m", "msvdd", *QUICK, "pretrain.epochs=5", "train.epochs=5",
                           "dataset=folder", f"dataset.path={folder}", f"paths.root_dir={root}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (results,) = root.rglob("results.json")
    return results.parent


@pytest.mark.slow
def test_a_16_bit_copy_trains_the_same_model_and_predict_flags_the_same(folders, tmp_path):
    from msvdd.predict import main

    run8, run16 = _train(folders["f8"], tmp_path / "a"), _train(folders["png"], tmp_path / "b")
    record8, record16 = (json.loads((r / "results.json").read_text()) for r in (run8, run16))
    assert record8["auroc"] == record16["auroc"] and record8["final_loss"] == record16["final_loss"]
    scores8, scores16 = (pd.read_csv(r / "test_scores.csv") for r in (run8, run16))
    assert scores8.score.tolist() == scores16.score.tolist() and scores8.outside.tolist() == scores16.outside.tolist()
    for model in (run8, run16):  # either model scores either folder the same: 16-bit input on either scale
        flagged = []
        for folder in (folders["f8"], folders["png"]):
            out = tmp_path / f"{model.parent.name}_{folder.name}.csv"
            assert main([str(model / "model.pt"), str(folder / "test"), "--out", str(out)]) == 0
            flagged.append(pd.read_csv(out))
        assert flagged[0].score.tolist() == flagged[1].score.tolist() == scores8.score.tolist()
        assert flagged[0].outside.tolist() == flagged[1].outside.tolist()
