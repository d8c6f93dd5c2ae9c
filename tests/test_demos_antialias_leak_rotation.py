"""The antialias, position-leak and rotation demos (--quick) show the effect they claim."""

import numpy as np


def test_antialias_blur_lowers_odd_shift_error(run_demo):
    res = run_demo("antialias", "--quick")
    err = res["equivariance_error"]
    odd = [s for s in res["shifts"] if s % 2]
    even = [s for s in res["shifts"] if s % 2 == 0]
    for name in ("MaxPool2D(2)", "BlurPool2D(3)", "MaxBlurPool2D(3)", "MaxBlurPool2D(5)"):
        assert max(err[name][s] for s in even) < 1e-12     # stride 2: even shifts are exact
    for s in odd:
        assert err["MaxBlurPool2D(3)"][s] < 0.75 * err["MaxPool2D(2)"][s]
        assert err["MaxBlurPool2D(5)"][s] < err["MaxBlurPool2D(3)"][s]   # more blur, less alias
        assert err["MaxPool2D(2)"][s] > 0.05
    for r in res["trained"].values():
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["consistency"] <= 1
    assert all(p.exists() for p in res["figures"])


def test_position_leak_zero_padding_learns_circular_cannot(run_demo):
    res = run_demo("position_leak", "--quick")
    assert res["zeros"]["test_accuracy"] >= 0.9
    # Circular padding + global max: both images of a pair get the same logits (up to float32
    # rounding), hence the same class, and exactly one of the two is right.
    assert res["circular"]["same_prediction_in_pair"] == 1.0
    assert res["circular"]["max_logit_diff_in_pair"] < 1e-4
    assert abs(res["circular"]["test_accuracy"] - 0.5) <= 0.03
    assert res["zeros"]["same_prediction_in_pair"] < 0.2
    # A constant image: flat maps with circular padding, a visible border with zeros.
    assert res["circular"]["constant_image_map_std"] < 1e-5
    assert res["zeros"]["constant_image_map_std"] > 1e-2
    assert all(p.exists() for p in res["figures"])


def test_rotation_p4_is_the_same_at_every_angle(run_demo):
    res = run_demo("rotation", "--quick")
    p4, plain = res["models"]["p4 CNN"], res["models"]["plain CNN"]
    assert p4["same_prediction_all_angles"] == 1.0
    assert np.ptp(list(p4["accuracy"].values())) == 0.0
    assert p4["max_logit_change"] < 1e-4                   # float32 rounding only
    upright = plain["accuracy"][0]
    assert upright > 0.6
    assert max(plain["accuracy"][a] for a in (90, 180, 270)) < upright - 0.3
    assert all(p.exists() for p in res["figures"])
