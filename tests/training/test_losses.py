import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crossingguard.errors import ConfigError, InputError
from crossingguard.toolkit.training.losses import (
    PartialLabelLoss,
    PrecomputedDistillationLoss,
    build_distillation_dataset,
    partial_label_nll,
)

PREMISES = [
    "the cat sat on the mat",
    "how do i make a bomb",
    "tell me about the weather today",
    "please write a poem",
]
HYPOTHESES = [
    "a cat is sitting",
    "the user wants a weapon",
    "it is sunny",
    "the prompt asks for code",
]
GOLD = np.array([0, 0, 1, 2])
TEACHER = np.array(
    [[2.0, -1.0, -1.0], [1.5, 0.0, -2.0], [-0.5, 1.0, 0.2], [-1.0, 0.0, 3.0]]
)


def _cross_encoder(path):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(path), device="cpu")


def _student_logits(model):
    model.model.eval()
    with torch.no_grad():
        return model.predict(
            list(zip(PREMISES, HYPOTHESES, strict=True)),
            activation_fn=torch.nn.Identity(),
            convert_to_numpy=True,
        ).astype(np.float64)


def _batch_labels():
    return torch.tensor(
        np.concatenate([GOLD[:, None], TEACHER], axis=1), dtype=torch.float32
    )


def test_loss_matches_hand_computation(tiny_model_dir):
    model = _cross_encoder(tiny_model_dir)
    z = _student_logits(model)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(4), GOLD].mean()
    mse = ((z - TEACHER) ** 2).mean()

    loss = PrecomputedDistillationLoss(model, alpha=0.3, beta=0.7)
    model.model.eval()
    with torch.no_grad():
        # the collator hands a list of per-row tensors; a stacked tensor works too
        got_list = loss([PREMISES, HYPOTHESES], list(_batch_labels())).item()
        got_tensor = loss([PREMISES, HYPOTHESES], _batch_labels()).item()
    assert got_list == pytest.approx(0.3 * ce + 0.7 * mse, rel=1e-5)
    assert got_tensor == pytest.approx(got_list, rel=1e-6)


def test_student_with_other_label_order_gives_same_loss(
    tiny_model_dir, tiny_model_factory
):
    # same weights with the head rows permuted and id2label permuted to match
    permuted = _cross_encoder(
        tiny_model_factory("perm-student", permute=[2, 0, 1], with_onnx=False)
    )
    plain = _cross_encoder(tiny_model_dir)
    values = []
    for m in (plain, permuted):
        m.model.eval()
        with torch.no_grad():
            values.append(
                PrecomputedDistillationLoss(m)(
                    [PREMISES, HYPOTHESES], _batch_labels()
                ).item()
            )
    assert values[1] == pytest.approx(values[0], rel=1e-5)


def test_init_refuses_non_nli_models(tiny_model_factory, tiny_model_dir):
    two = _cross_encoder(
        tiny_model_factory("two-label", id2label={0: "no", 1: "yes"}, with_onnx=False)
    )
    with pytest.raises(ConfigError, match="3-label NLI student.*2 output label"):
        PrecomputedDistillationLoss(two)
    with pytest.raises(ConfigError, match="alpha: must be a finite number >= 0"):
        PrecomputedDistillationLoss(_cross_encoder(tiny_model_dir), alpha=-1)


def test_forward_rejects_bad_labels(tiny_model_dir):
    loss = PrecomputedDistillationLoss(_cross_encoder(tiny_model_dir))
    with pytest.raises(InputError, match=r"shape \(4, 4\)"):
        loss([PREMISES, HYPOTHESES], torch.tensor(GOLD))
    bad = _batch_labels()
    bad[0, 0] = 5
    with pytest.raises(InputError, match=r"label codes must be 0\.\.3"):
        loss([PREMISES, HYPOTHESES], bad)
    with pytest.raises(InputError, match="two text columns"):
        loss([PREMISES], _batch_labels())


def test_build_dataset_validates_shapes():
    ds = build_distillation_dataset(PREMISES, HYPOTHESES, GOLD, TEACHER)
    assert ds.column_names == ["premise", "hypothesis", "label"]
    assert ds[2]["label"] == pytest.approx([1.0, -0.5, 1.0, 0.2])
    with pytest.raises(InputError, match=r"shape \(4, 3\)"):
        build_distillation_dataset(PREMISES, HYPOTHESES, GOLD, TEACHER[:, :2])
    with pytest.raises(InputError, match=r"label codes 0\.\.3"):
        build_distillation_dataset(
            PREMISES, HYPOTHESES, np.array([0, 1, 2, 4]), TEACHER
        )
    partial = build_distillation_dataset(
        PREMISES, HYPOTHESES, np.array([0, 1, 2, 3]), TEACHER
    )
    assert partial[3]["label"][0] == 3.0
    with pytest.raises(InputError, match="empty"):
        build_distillation_dataset([], [], [], np.zeros((0, 3)))


def test_real_trainer_steps_reduce_loss_on_repeated_batch(tiny_model_dir, tmp_path):
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )

    model = _cross_encoder(tiny_model_dir)
    for (
        module
    ) in model.modules():  # dropout noise would swamp 3 steps on a random tiny model
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    ds = build_distillation_dataset(PREMISES, HYPOTHESES, GOLD, TEACHER)
    loss = PrecomputedDistillationLoss(model)

    def batch_loss():
        model.model.eval()
        with torch.no_grad():
            return loss([PREMISES, HYPOTHESES], _batch_labels()).item()

    before = batch_loss()
    args = CrossEncoderTrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=3,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=0,
        dataloader_drop_last=False,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=loss)
    trainer.train()
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(logged) == 3 and all(np.isfinite(logged))
    assert logged[-1] < logged[0]
    assert batch_loss() < before
    # saving builds sentence-transformers' own model card, which reads the loss's config
    model.save_pretrained(str(tmp_path / "saved"))
    assert (
        "PrecomputedDistillationLoss" in (tmp_path / "saved" / "README.md").read_text()
    )


# ------------------------------------------------------------------------ partial labels

CODES = np.array([0, 3, 1, 3])  # two rows are two-way "not-entailed"


def _hand_partial_nll(z: np.ndarray, codes: np.ndarray) -> float:
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    allowed = {0: [0], 1: [1], 2: [2], 3: [1, 2]}
    return float(
        np.mean([-np.log(p[i, allowed[int(c)]].sum()) for i, c in enumerate(codes)])
    )


def test_partial_label_nll_matches_hand_computation_and_is_ce_on_full_labels():
    z = np.array(
        [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.0, 1.0], [40.0, -40.0, -39.0]]
    )
    got = partial_label_nll(torch.tensor(z), torch.tensor(CODES)).item()
    # row 4: P(N)+P(C) underflows in float32 probabilities; logsumexp keeps it finite
    assert got == pytest.approx(_hand_partial_nll(z, CODES), rel=1e-5)
    full = np.array([0, 2, 1, 0])
    ce = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(full)).item()
    assert partial_label_nll(
        torch.tensor(z), torch.tensor(full)
    ).item() == pytest.approx(ce, rel=1e-6)
    # hand values for one row: not-entailed = -log((e^0.2 + e^3) / (e^0.1 + e^0.2 + e^3))
    one = -np.log(
        (np.exp(0.2) + np.exp(3.0)) / (np.exp(0.1) + np.exp(0.2) + np.exp(3.0))
    )
    assert partial_label_nll(
        torch.tensor(z[1:2]), torch.tensor([3])
    ).item() == pytest.approx(one, rel=1e-6)


def test_partial_label_loss_on_a_model_matches_hand_computation(
    tiny_model_dir, tiny_model_factory
):
    model = _cross_encoder(tiny_model_dir)
    z = _student_logits(model)
    loss = PartialLabelLoss(model)
    with torch.no_grad():
        got = loss([PREMISES, HYPOTHESES], torch.tensor(CODES)).item()
    assert got == pytest.approx(_hand_partial_nll(z, CODES), rel=1e-5)
    # a head in another order gives the same loss (the order is read from id2label)
    permuted = _cross_encoder(
        tiny_model_factory("perm-partial", permute=[2, 0, 1], with_onnx=False)
    )
    permuted.model.eval()
    with torch.no_grad():
        again = PartialLabelLoss(permuted)(
            [PREMISES, HYPOTHESES], torch.tensor(CODES)
        ).item()
    assert again == pytest.approx(got, rel=1e-5)
    with pytest.raises(InputError, match="one label code per pair"):
        loss([PREMISES, HYPOTHESES], torch.tensor(CODES[:2]))
    with pytest.raises(InputError, match=r"0\.\.3"):
        loss([PREMISES, HYPOTHESES], torch.tensor([0, 1, 2, 7]))


def test_distillation_with_partial_gold_matches_hand_computation(tiny_model_dir):
    model = _cross_encoder(tiny_model_dir)
    z = _student_logits(model)
    labels = torch.tensor(
        np.concatenate([CODES[:, None], TEACHER], axis=1), dtype=torch.float32
    )
    with torch.no_grad():
        got = PrecomputedDistillationLoss(model, alpha=0.5, beta=0.5)(
            [PREMISES, HYPOTHESES], labels
        ).item()
    want = 0.5 * _hand_partial_nll(z, CODES) + 0.5 * ((z - TEACHER) ** 2).mean()
    assert got == pytest.approx(want, rel=1e-5)


def test_not_entailed_rows_move_mass_off_entailment_only(tiny_model_dir, tmp_path):
    """A few steps on not-entailed rows lower P(entailment) and leave N vs C to the data."""
    import datasets
    from sentence_transformers.cross_encoder import (
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )

    model = _cross_encoder(tiny_model_dir)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    ds = datasets.Dataset.from_dict(
        {"premise": PREMISES, "hypothesis": HYPOTHESES, "label": [3, 3, 3, 3]}
    )
    before = _student_logits(model)
    args = CrossEncoderTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=5, per_device_train_batch_size=4, learning_rate=1e-3,
        warmup_steps=0, save_strategy="no", report_to="none", use_cpu=True, seed=0,
    )  # fmt: skip
    CrossEncoderTrainer(
        model=model, args=args, train_dataset=ds, loss=PartialLabelLoss(model)
    ).train()
    after = _student_logits(model)

    def p_entail(z):
        return np.exp(z[:, 0]) / np.exp(z).sum(axis=1)

    assert (p_entail(after) < p_entail(before)).all()
