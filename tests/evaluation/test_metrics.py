import numpy as np
import pytest

from crossingguard.errors import InputError
from crossingguard.toolkit.evaluation.metrics import (
    classification_report,
    confusion_matrix,
    f1_scores,
    report_from_confusion,
)

# Hand-built example: rows are gold E/N/C, columns predictions.
CM = np.array([[5, 1, 0], [2, 3, 1], [0, 1, 7]])


def _expand(cm):
    t, p = [], []
    for g in range(3):
        for q in range(3):
            t += [g] * int(cm[g, q])
            p += [q] * int(cm[g, q])
    return np.array(t), np.array(p)


def test_confusion_matrix_counts_gold_rows_predicted_columns():
    t, p = _expand(CM)
    assert confusion_matrix(t, p).tolist() == CM.tolist()


def test_metrics_match_hand_computation():
    rep = classification_report(*_expand(CM))
    # F1 = 2TP / (2TP + FP + FN)
    f1 = np.array([10 / 13, 6 / 11, 14 / 16])
    np.testing.assert_allclose(rep.precision, [5 / 7, 3 / 5, 7 / 8])
    np.testing.assert_allclose(rep.recall, [5 / 6, 3 / 6, 7 / 8])
    np.testing.assert_allclose(rep.f1, f1)
    assert rep.f1_micro == pytest.approx(15 / 20)
    assert rep.accuracy == pytest.approx(0.75)
    assert rep.f1_macro == pytest.approx(f1.mean())
    assert rep.f1_weighted == pytest.approx((6 * f1[0] + 6 * f1[1] + 8 * f1[2]) / 20)
    d = rep.to_dict()
    assert {"f1_micro", "f1_macro", "f1_weighted"} <= d.keys()
    assert d["per_class"]["neutral"]["recall"] == pytest.approx(0.5)
    assert d["confusion_matrix"] == CM.tolist()


def test_class_never_predicted_gets_zero_not_nan():
    rep = report_from_confusion(np.array([[3, 0, 0], [1, 0, 0], [0, 0, 2]]))
    assert rep.precision[1] == 0.0 and rep.f1[1] == 0.0
    assert not np.isnan(rep.f1_macro)


def test_f1_scores_keys():
    assert set(f1_scores([0, 1, 2], [0, 1, 1])) == {
        "f1_micro",
        "f1_macro",
        "f1_weighted",
    }


@pytest.mark.parametrize(
    "t,p,msg",
    [
        ([], [], "empty"),
        ([0, 1], [0], "same length"),
        ([0, 3], [0, 1], "class id 3"),
        ([0.0, 1.0], [0, 1], "integer"),
    ],
)
def test_bad_input_raises_clear_error(t, p, msg):
    with pytest.raises(InputError, match=msg):
        confusion_matrix(np.array(t), np.array(p))
