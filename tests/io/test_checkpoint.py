from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from bioscope.errors import InputError
from bioscope.io import load_checkpoint, save_checkpoint


@pytest.fixture
def checkpoint(tmp_path):
    tensors = {"w": torch.arange(6.0).reshape(2, 3), "step": torch.tensor(4), "b": torch.ones(0)}
    return save_checkpoint(tmp_path / "c.safetensors", tensors, {"epoch": 2, "nested": {"a": [1]}})


def test_round_trip(checkpoint):
    tensors, meta = load_checkpoint(checkpoint)
    assert torch.equal(tensors["w"], torch.arange(6.0).reshape(2, 3))
    assert tensors["step"].item() == 4 and tensors["b"].shape == (0,)
    assert meta["epoch"] == 2 and meta["nested"] == {"a": [1]}
    assert meta["format"] == "bioscope-checkpoint" and "bioscope_version" in meta


def test_flipped_byte_is_detected(checkpoint):
    data = bytearray(checkpoint.read_bytes())
    data[-3] ^= 0xFF  # inside the tensor bytes
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum mismatch"):
        load_checkpoint(checkpoint)


def test_truncated_file(checkpoint):
    checkpoint.write_bytes(checkpoint.read_bytes()[:-10])
    with pytest.raises(InputError, match="corrupt checkpoint"):
        load_checkpoint(checkpoint)


def test_foreign_and_garbage_files(tmp_path):
    save_file({"w": torch.ones(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(InputError, match="foreign checkpoint"):
        load_checkpoint(tmp_path / "foreign.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(InputError, match="not a safetensors checkpoint"):
        load_checkpoint(tmp_path / "junk.safetensors")
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04" + b"\x00" * 100)  # a zip/pickle checkpoint
    with pytest.raises(InputError, match="not a safetensors checkpoint"):
        load_checkpoint(tmp_path / "model.pt")
    with pytest.raises(InputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_newer_format_is_refused(tmp_path):
    meta = {"format": "bioscope-checkpoint", "format_version": 99, "sha256": ""}
    save_file(
        {"w": torch.ones(1)}, str(tmp_path / "new.safetensors"), {"bioscope": json.dumps(meta)}
    )
    with pytest.raises(InputError, match="newer than this bioscope"):
        load_checkpoint(tmp_path / "new.safetensors")


def _with_header(path, header):
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text)
    return path


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([1, 2], "header is not a JSON object"),
        ({"__metadata__": "x"}, "foreign checkpoint"),
        ({"__metadata__": {"bioscope": "[1]"}}, "format 'list'"),
        (
            {
                "__metadata__": {
                    "bioscope": json.dumps({"format": "bioscope-checkpoint", "format_version": "2"})
                }
            },
            "format_version '2'",
        ),
    ],
)
def test_malformed_headers_are_refused_by_name(tmp_path, header, message):
    path = _with_header(tmp_path / "bad.safetensors", header)
    with pytest.raises(InputError, match=f"bad.safetensors: .*{message}"):
        load_checkpoint(path)


def test_failed_save_keeps_the_old_checkpoint(checkpoint):
    with pytest.raises(InputError, match="not JSON-serialisable"):
        save_checkpoint(checkpoint, {"w": torch.zeros(1)}, {"bad": object()})
    assert load_checkpoint(checkpoint)[1]["epoch"] == 2
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["c.safetensors"]
