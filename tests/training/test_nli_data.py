"""NLI readers: every format, label normalisation, defects from the data README, bad input."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from crossingguard.errors import DataError
from crossingguard.toolkit.data.nli import (
    detokenize,
    load_nli,
    pair_key,
    read_mnli_style_tsv,
    read_mpe,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_labels_normalised_and_unlabelled_counted(tmp_path):
    rows = [
        {
            "premise": "A man sleeps.",
            "hypothesis": "A man rests.",
            "label": "entailment",
        },
        {
            "sentence1": "A dog runs.",
            "sentence2": "A cat runs.",
            "gold_label": "CONTRADICTION",
        },
        {"premise": "It rains.", "hypothesis": "It is cold.", "label": "n"},
        {"premise": "x y", "hypothesis": "z", "gold_label": "-"},
        {"premise": "Ints use the project order.", "hypothesis": "ok", "label": 2},
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    data = load_nli(path)
    assert data.labels.tolist() == [0, 2, 1, 2]
    assert data.report.unlabeled == 1
    assert data.pairs[0] == ("A man sleeps.", "A man rests.")


def test_malformed_rows_are_reported_with_file_and_line(tmp_path):
    text = (
        json.dumps({"premise": "p1", "hypothesis": "h1", "label": "entailment"})
        + "\n"
        + "{not json\n"
        + json.dumps({"premise": "p2", "hypothesis": "h2", "label": "maybe"})
        + "\n"
        + json.dumps({"premise": "p3", "hypothesis": "h3", "label": "neutral"})
        + "\n"
    )
    path = write(tmp_path / "bad.jsonl", text)
    data = load_nli(path)  # skip: the good rows after a bad one are still read
    assert data.labels.tolist() == [0, 1]
    assert len(data.report.malformed) == 2
    assert f"{path}:2" in data.report.malformed[0]
    assert (
        f"{path}:3" in data.report.malformed[1] and "maybe" in data.report.malformed[1]
    )
    with pytest.raises(DataError, match=r"bad\.jsonl:2: not valid JSON"):
        load_nli(path, on_error="raise")


def test_empty_data_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no usable labelled pairs"):
        load_nli(write(tmp_path / "empty.jsonl", ""))
    with pytest.raises(DataError, match="no data file or named source"):
        load_nli(tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="cannot be read as UTF-8"):
        bad = tmp_path / "latin.jsonl"
        bad.write_bytes(b'{"premise": "caf\xe9", "hypothesis": "x", "label": "e"}\n')
        load_nli(bad)


def test_duplicates_dropped_and_conflicting_pairs_removed(tmp_path):
    rows = [
        ("A man sleeps.", "A man rests.", "entailment"),
        ("a man sleeps", "A man rests!", "entailment"),  # same after normalisation
        ("The sky is blue.", "It is night.", "neutral"),
        (
            "The sky is blue.",
            "It is night.",
            "contradiction",
        ),  # conflicting: both dropped
    ]
    text = "\n".join(
        json.dumps({"premise": p, "hypothesis": h, "label": lab}) for p, h, lab in rows
    )
    data = load_nli(write(tmp_path / "d.jsonl", text))
    assert data.pairs == [("A man sleeps.", "A man rests.")]
    assert data.report.duplicates == 2 and data.report.conflicting == 1


def test_contamination_filter_drops_eval_pairs(tmp_path):
    text = "\n".join(
        json.dumps({"premise": p, "hypothesis": "h", "label": "e"})
        for p in ("one", "two", "three")
    )
    data = load_nli(write(tmp_path / "t.jsonl", text), exclude={pair_key("TWO.", "h")})
    assert [p for p, _ in data.pairs] == ["one", "three"]
    assert data.report.contaminated == 1


def test_tsv_csv_gz_and_tar_members(tmp_path):
    tsv = write(
        tmp_path / "x.tsv",
        'sentence1\tsentence2\tgold_label\nHe said "hi.\tHe spoke.\tentailment\n',
    )
    assert load_nli(tsv).premises == [
        'He said "hi.'
    ]  # quoting disabled: a lone quote is text
    csv_path = write(
        tmp_path / "x.csv", 'premise,hypothesis,label\n"A, B",C,contradiction\n'
    )
    assert load_nli(csv_path).pairs == [("A, B", "C")]
    gz = tmp_path / "x.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(
            json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral"}) + "\n"
        )
    assert load_nli(gz).labels.tolist() == [1]
    archive = tmp_path / "x.tar.gz"
    payload = b"premise\thypothesis\tlabel\np\th\tentailment\n"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("inner/data.tsv")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    assert load_nli(archive).pairs == [("p", "h")]
    assert load_nli(f"{archive}::inner/data.tsv").pairs == [("p", "h")]


def test_mnli_style_tsv_rejoins_a_premise_holding_a_tab(tmp_path):
    header = "index\tpromptID\tpairID\tgenre\tnull\tnull\tnull\tnull\tsentence1\tsentence2\tlabel1\tgold_label\n"
    good = "1\tp\tq\twiki\t\t\t\t\tA premise.\t A hypothesis.\tneutral\tneutral\n"
    tabbed = '2\tp\tq\twiki\t\t\t\t\t"Left\tright."\tHyp.\tentailment\tentailment\n'
    rows = list(
        read_mnli_style_tsv(write(tmp_path / "train.tsv", header + good + tabbed))
    )
    assert [(r.premise, r.hypothesis, r.label) for r in rows] == [
        ("A premise.", "A hypothesis.", "neutral"),
        ("Left right.", "Hyp.", "entailment"),
    ]


def test_mpe_joins_captions_and_repairs_the_space_separated_label(tmp_path):
    header = "ID\tpremise1\tpremise2\tpremise3\tpremise4\thypothesis\tentailment_judgments\tneutral_judgments\tcontradiction_judgments\tgold_label\n"
    row = "1\ta.jpg#1/One.\ta.jpg#2/Two.\ta.jpg#3/Three.\ta.jpg#4/Four.\tH.\t0\t2\t3   contradiction\n"
    (parsed,) = list(read_mpe(write(tmp_path / "mpe.txt", header + row)))
    assert (
        parsed.premise == "One. Two. Three. Four." and parsed.label == "contradiction"
    )


def test_detokenize_undoes_ptb_spacing():
    assert (
        detokenize("it 's fine , and I do n't know .") == "it's fine, and I don't know."
    )


@pytest.mark.skipif(
    not Path(__file__).resolve().parents[3].joinpath("shared", "data").is_dir(),
    reason="no shared data",
)
def test_named_sources_on_the_real_data():
    xnli = load_nli("xnli-en-dev")
    assert len(xnli) == 2490 and np.bincount(xnli.labels).tolist() == [830, 830, 830]
    snli = load_nli("snli-dev")
    assert snli.report.unlabeled == 158
    sick = load_nli("sick-train")
    assert len(sick) == 4439  # TRAIN rows only, never TEST


def test_missing_generated_set_names_the_command_that_builds_it(tmp_path, monkeypatch):
    import pytest

    from crossingguard.errors import DataError
    from crossingguard.toolkit.data.nli import load_nli

    monkeypatch.setenv("CROSSINGGUARD_GENERATED", str(tmp_path))
    with pytest.raises(DataError, match="data intent-pairs"):
        load_nli("intent-nli-train")
    with pytest.raises(DataError, match="data guard-pairs"):
        load_nli("guard-nli-dev")
