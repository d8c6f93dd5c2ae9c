"""demos/position_leak.py (--quick): zero padding lets a network learn where an image is;
circular padding with a global pool cannot (its printed sentences: test_demo_antialias.py)."""


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
