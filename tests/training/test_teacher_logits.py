import json

import numpy as np
import pytest
from tiny_model import logit_runner

from crossingguard.errors import InputError, ModelError
from crossingguard.inference.scorer import Scorer
from crossingguard.toolkit.training import teacher_logits as tl
from crossingguard.toolkit.training.teacher_logits import (
    compute_teacher_logits,
    load_teacher_logits,
)

PAIRS = [
    (f"the cat sat on the mat {i}", h)
    for i, h in enumerate(
        ["a cat", "a dog", "it is sunny", "the user wants a weapon", "hello"]
    )
]


def test_logits_match_teacher_and_load_back(tiny_model_dir, tmp_path):
    entry = compute_teacher_logits(
        tiny_model_dir, PAIRS, tmp_path, shard_rows=2, show_progress=False
    )
    assert len(list(entry.glob("shard_*.npy"))) == 3
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["stored_label_order"] == [
        "entailment",
        "neutral",
        "contradiction",
    ]
    expected = logit_runner(tiny_model_dir)(PAIRS)
    # the cache folder or the entry folder both work
    for where in (tmp_path, entry):
        np.testing.assert_allclose(
            load_teacher_logits(where, PAIRS), expected, atol=1e-5
        )


def test_teacher_with_other_label_order_is_remapped(
    tiny_model_dir, tiny_model_factory, tmp_path
):
    permuted = tiny_model_factory("perm-teacher", permute=[2, 0, 1], with_onnx=False)
    a = load_teacher_logits(
        compute_teacher_logits(
            tiny_model_dir, PAIRS, tmp_path / "a", show_progress=False
        ),
        PAIRS,
    )
    b_entry = compute_teacher_logits(
        permuted, PAIRS, tmp_path / "b", show_progress=False
    )
    assert (
        json.loads((b_entry / "meta.json").read_text())["teacher_id2label"]["0"]
        == "contradiction"
    )
    np.testing.assert_allclose(load_teacher_logits(b_entry, PAIRS), a, atol=1e-5)


def test_cached_and_resumed(tiny_model_dir, tmp_path, monkeypatch):
    entry = compute_teacher_logits(
        tiny_model_dir, PAIRS, tmp_path, shard_rows=2, show_progress=False
    )
    full = load_teacher_logits(entry, PAIRS)

    # simulate a run killed before its last shard
    (entry / "shard_00002.npy").unlink()
    meta = json.loads((entry / "meta.json").read_text())
    meta["status"] = "in_progress"
    (entry / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="incomplete.*resume"):
        load_teacher_logits(entry, PAIRS)

    scored = []
    real_call = Scorer.raw_logits

    def counting_call(self, pairs, **kw):
        scored.extend(pairs)
        return real_call(self, pairs, **kw)

    monkeypatch.setattr(Scorer, "raw_logits", counting_call)
    assert (
        compute_teacher_logits(
            tiny_model_dir, PAIRS, tmp_path, shard_rows=2, show_progress=False
        )
        == entry
    )
    assert scored == PAIRS[4:]  # only the missing shard was recomputed
    np.testing.assert_allclose(load_teacher_logits(entry, PAIRS), full)

    scored.clear()  # complete entry: pure cache hit
    compute_teacher_logits(
        tiny_model_dir, PAIRS, tmp_path, shard_rows=2, show_progress=False
    )
    assert scored == []


def test_changed_weights_change_the_key(tiny_model_dir, tmp_path):
    ident = tl.teacher_identity(tiny_model_dir.resolve(), backend="torch")
    k1 = tl.cache_key(ident, tl.pairs_sha256(PAIRS))
    ident["weights"][0]["mtime_ns"] += 1
    assert tl.cache_key(ident, tl.pairs_sha256(PAIRS)) != k1
    assert tl.cache_key(ident, tl.pairs_sha256(PAIRS[::-1])) != tl.cache_key(
        ident, tl.pairs_sha256(PAIRS)
    )


def test_load_rejects_mismatched_data(tiny_model_dir, tmp_path):
    entry = compute_teacher_logits(tiny_model_dir, PAIRS, tmp_path, show_progress=False)
    with pytest.raises(InputError, match="holds logits for 5 pairs but the data has 4"):
        load_teacher_logits(entry, PAIRS[:4])
    swapped = PAIRS[:4] + [("another premise", "a cat")]
    with pytest.raises(InputError, match="different pairs"):
        load_teacher_logits(entry, swapped)
    with pytest.raises(InputError, match="no teacher logits .* match"):
        load_teacher_logits(tmp_path, swapped)
    np.save(entry / "shard_00000.npy", np.zeros((5, 2), np.float32))
    with pytest.raises(InputError, match=r"shape \(5, 2\), expected \(5, 3\)"):
        load_teacher_logits(entry, PAIRS)


def test_bad_teachers_and_empty_data(tiny_model_dir, tiny_model_factory, tmp_path):
    with pytest.raises(InputError, match="empty"):
        compute_teacher_logits(tiny_model_dir, [], tmp_path)
    unnamed = tiny_model_factory(
        "unnamed", id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, with_onnx=False
    )
    with pytest.raises(ModelError, match="cannot read NLI labels"):
        compute_teacher_logits(unnamed, PAIRS, tmp_path, show_progress=False)
    with pytest.raises(ModelError, match="not a model directory"):
        compute_teacher_logits(tmp_path / "missing" / "x", PAIRS, tmp_path)


def test_scored_shortest_first_and_stored_in_data_order(
    tiny_model_dir, tmp_path, monkeypatch
):
    pairs = [
        ("a much longer premise about many cats and dogs", "x"),
        ("a", "b"),
        ("medium premise", "c"),
    ]
    seen = []
    real_call = Scorer.raw_logits

    def recording_call(self, batch, **kw):
        seen.extend(batch)
        assert kw["batch_size"] == 64  # the CPU default when batch_size is None
        return real_call(self, batch, **kw)

    monkeypatch.setattr(Scorer, "raw_logits", recording_call)
    entry = compute_teacher_logits(
        tiny_model_dir, pairs, tmp_path, show_progress=False, device="cpu"
    )
    assert seen == [pairs[1], pairs[2], pairs[0]]
    monkeypatch.setattr(Scorer, "raw_logits", real_call)
    np.testing.assert_allclose(
        load_teacher_logits(entry, pairs),
        logit_runner(tiny_model_dir)(pairs),
        atol=1e-5,
    )
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["device"] == "cpu" and meta["batch_size"] == 64


def test_length_order_is_stable_and_devices_are_checked():
    assert tl.length_order(
        [("ab", "c"), ("a", "b"), ("b", "a"), ("abcd", "")]
    ).tolist() == [1, 2, 0, 3]
    assert tl.resolve_device("auto", "onnx") == "cpu"
    with pytest.raises(InputError, match="device must be"):
        tl.resolve_device("tpu", "torch")
    with pytest.raises(InputError, match="needs the torch backend"):
        tl.resolve_device("cuda", "onnx")
