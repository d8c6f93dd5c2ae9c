"""demos/antialias.py (--quick) shows the effect it claims: blurring before subsampling lowers the
error for odd shifts. The sentences test also covers demos/position_leak.py and demos/rotation.py,
whose printed readings it checks with the same made-up numbers."""


def test_antialias_blur_lowers_odd_shift_error(run_demo):
    res = run_demo("antialias", "--quick", "--jobs", "1")     # workers only cost time here
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


def test_sentences_follow_the_numbers():
    """Each demo's printed interpretation changes when the numbers do (no canned text)."""
    from conftest import load_demo
    aa = load_demo("antialias")
    errors = {"MaxPool2D(2)": [0, 0.27, 0], "MaxBlurPool2D(3)": [0, 0.14, 0]}
    trained = {"MaxPool2D(2)": {"accuracy": 0.9, "consistency": 0.90},
               "MaxBlurPool2D(3)": {"accuracy": 0.9, "consistency": 0.93}}
    gain = " ".join(aa.readings(errors, [0, 1, 2], trained, 1800))
    assert "48% lower" in gain and "a gain beyond" in gain and "exactly 0" in gain
    trained["MaxBlurPool2D(3)"] = {"accuracy": 0.9, "consistency": 0.905}
    same = " ".join(aa.readings(errors, [0, 1, 2], trained, 1800))
    assert "not distinguishable" in same and "near chance" not in same
    trained["MaxBlurPool2D(3)"] = {"accuracy": 0.11, "consistency": 1.0}
    chance = " ".join(aa.readings(errors, [0, 1, 2], trained, 1800))
    assert "near chance" in chance and "standard errors" not in chance

    leak = load_demo("position_leak")
    flat = {"test_accuracy": 0.5, "same_prediction_in_pair": 1.0,
            "max_logit_diff_in_pair": 0.0, "constant_image_map_std": 1e-8}
    leaky = {"test_accuracy": 0.98, "same_prediction_in_pair": 0.02,
             "max_logit_diff_in_pair": 7.0, "constant_image_map_std": 0.4}
    text = leak.readings({"zeros": leaky, "circular": flat}, 900)
    assert "tells the two positions apart" in text[0] and "cannot" in text[3]
    assert "different logits" in text[1] and "exactly one image" in text[4]
    assert "position is encoded" in text[2] and "no position signal" in text[5]

    rot = load_demo("rotation")
    angles = dict.fromkeys(rot.ANGLES, 0.9)
    p4 = {"accuracy": angles, "same_prediction_all_angles": 1.0, "max_logit_change": 1e-6}
    plain = {"accuracy": {0: 0.98, 90: 0.1, 180: 0.4, 270: 0.1},
             "same_prediction_all_angles": 0.05, "max_logit_change": 9.0}
    text = rot.readings({"plain CNN": plain, "p4 CNN": p4}, {"plain CNN": 0, "p4 CNN": 5}, 90)
    assert "not invariant" in text[0] and "invariant to 90-degree turns" in text[1]
    assert "spread 0.000" in text[1] and "confuses more" in text[2]
    text = rot.readings({"plain CNN": plain, "p4 CNN": p4}, {"plain CNN": 2, "p4 CNN": 1}, 90)
    assert "no more of them" in text[2]
