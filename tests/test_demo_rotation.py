"""demos/rotation.py (--quick): the p4 network gives the same answer at every 90-degree turn, the
plain CNN does not (its printed sentences: test_demo_antialias.py)."""

import numpy as np


def test_rotation_p4_is_the_same_at_every_angle(run_demo):
    res = run_demo("rotation", "--quick", "--jobs", "1")
    p4, plain = res["models"]["p4 CNN"], res["models"]["plain CNN"]
    assert p4["same_prediction_all_angles"] == 1.0
    assert np.ptp(list(p4["accuracy"].values())) == 0.0
    assert p4["max_logit_change"] < 1e-4                   # float32 rounding only
    upright = plain["accuracy"][0]
    assert upright > 0.6
    assert max(plain["accuracy"][a] for a in (90, 180, 270)) < upright - 0.3
    assert all(p.exists() for p in res["figures"])
