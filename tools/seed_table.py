"""The README's headline numbers over seeds: mean [min, max], and which directions held at all.

    python tools/seed_table.py                          every experiment demo, seeds 0, 1, 2
    python tools/seed_table.py corner equivariance      only these demos
    python tools/seed_table.py corner --figures docs    seed 0 also writes its figures to docs/
    python tools/seed_table.py weight_sharing --all     also every scalar the demo returns

Each demo's main() is loaded as the tests load it (common.load_demo) and run with --no-figures at
every seed. Demos that already train over several seeds in one run (fuzzy_features,
learned_invariance) run once, from the first seed, over as many seeds, and their per-seed
arrays are split here. The numbers are read from the dict main() returns; a key that is not
there is reported as missing (with the keys that are), never guessed, so a demo that changes
its dict still prints what it has. A demo with no entry in HEADLINES gets every scalar it
returns. The README quotes these lines; run this on the final code and copy them over.
"""

import argparse
import contextlib
import io
import math
import pathlib
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "demos")]
from common import load_demo  # noqa: E402  (demos/ is a folder of scripts, not a package)

MISSING = []                    # paths asked for and not found, reported at the end


def get(d, *path):
    """d[path[0]][path[1]]...; None (and the path noted in MISSING) where a step is absent."""
    node = d
    for i, key in enumerate(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            have = list(node)[:12] if isinstance(node, dict) else type(node).__name__
            MISSING.append(f"{'/'.join(map(str, path[:i + 1]))} (there: {have})")
            return None
    return node


def pct(v):
    return None if v is None else 100 * float(v)


def odd_mean(errors):
    return None if errors is None else float(np.mean(errors[1::2]))   # shifts 1, 3, 5, ...


def spread(values):
    return None if values is None or None in values else max(values) - min(values)


# ---- per demo: the headline numbers (label -> value) of one seed, and the directions ----------
def corner(r):
    out = {}
    for k in "abcdef":
        s = get(r, "results", k) or {}
        for key, label in (("trained", "trained"), ("far", "far"), ("min", "min"),
                           ("spread", "max-min"), ("consistency", "consistency"),
                           ("fragility", "1px change")):
            out[f"{k} {label} %"] = pct(s.get(key))
        out[f"{k} jaggedness"] = s.get("jaggedness")
    return [out]


CORNER_DIRECTIONS = [
    ("a learns the corner (> 80%) and is near chance (< 20%) in the far quadrant",
     lambda v: v["a trained %"] > 80 and v["a far %"] < 20),
    ("b and c beat a in the far quadrant", lambda v: min(v["b far %"], v["c far %"]) > v["a far %"]),
    ("d (augmentation) beats a in the far quadrant by > 50 points",
     lambda v: v["d far %"] - v["a far %"] > 50),
    ("e's map is flat (max-min 0)", lambda v: v["e max-min %"] == 0),
    ("f's map is flat (max-min 0)", lambda v: v["f max-min %"] == 0),
    ("circular padding narrows the map: e's max-min < c's", lambda v: v["e max-min %"] < v["c max-min %"]),
    ("f: consistency 100%, 1px change 0%",
     lambda v: v["f consistency %"] == 100 and v["f 1px change %"] == 0),
    ("f's 1px change is the lowest of all", lambda v: all(
        v["f 1px change %"] <= v[f"{k} 1px change %"] for k in "abcde")),
    ("f's jaggedness is the lowest of all", lambda v: all(
        v["f jaggedness"] <= v[f"{k} jaggedness"] for k in "abcde")),
]


def equivariance(r):
    main, stride, inv = get(r, "main") or {}, get(r, "stride") or {}, get(r, "invariance") or {}
    out = {f"equivariance: {k}": v for k, v in main.items()}
    shifts = get(r, "shifts") or []
    out |= {f"stride, {k}, shift {s}": e for k, v in stride.items() for s, e in zip(shifts, v)}
    out |= {f"invariance: {k}": v for k, v in inv.items()}
    out["measured band px"], out["radius px"] = get(r, "measured_band"), get(r, "radius")
    return [out]


EQUIVARIANCE_DIRECTIONS = [
    ("circular padding: every error exactly 0", lambda v: all(
        x == 0 for k, x in v.items() if k.startswith("equivariance") and "circular" in k)),
    ("zero padding: error only within the receptive radius of a border",
     lambda v: v["measured band px"] <= v["radius px"]),
]


def weight_sharing(r):
    return [{"output max |diff|": get(r, "output_max_abs_diff"),
             "kernel gradient max |diff|": get(r, "grad_max_abs_diff"),
             "conv parameters": get(r, "conv_params"), "dense parameters": get(r, "fc_params")}]


WEIGHT_SHARING_DIRECTIONS = [
    ("the dense matrix gives the conv's outputs exactly", lambda v: v["output max |diff|"] == 0),
    ("kernel gradient = sum over copies (< 1e-10)", lambda v: v["kernel gradient max |diff|"] < 1e-10),
]


def fuzzy_features(r):
    res = get(r, "results") or {}
    seeds = get(r, "seeds") or [0]
    rows = []
    for i, _ in enumerate(seeds):
        out = {}
        for (head, jitter), m in res.items():
            tag = f"{head}, jitter {jitter}"
            changed, acc = np.asarray(m["changed"])[i], np.asarray(m["accuracy"])[i]
            for k in (1, 2, 3, 4, 5, 8):
                if k < len(changed):
                    out[f"{tag}: changed % at k={k}"] = pct(changed[k])
            for k in (0, 1, 4, 8):
                if k < len(acc):
                    out[f"{tag}: accuracy % at k={k}"] = pct(acc[k])
            for layer, sim in m.get("similarity", {}).items():
                sim = np.asarray(sim)[i]
                out[f"{tag}: similarity {layer} at k=1"] = float(sim[1]) if len(sim) > 1 else None
        rows.append(out)
    return rows


def _jitter_pair(v, head, what):
    """(with jitter, without): the first nonzero jitter's value and jitter 0's."""
    tags = sorted({k.split(":")[0] for k in v if k.startswith(head + ",")})
    on = [t for t in tags if not t.endswith("jitter 0")]
    return v[f"{on[0]}: {what}"], v[f"{head}, jitter 0: {what}"]


FUZZY_DIRECTIONS = [
    (f"{head} head: jitter lowers the share changed by a 1-px shift",
     lambda v, head=head: (lambda on, off: on < off)(*_jitter_pair(v, head, "changed % at k=1")))
    for head in ("flatten", "pooling")
] + [
    (f"pooling head, jitter {j}: fewer changes at k=4 than at k=3 and 5",
     lambda v, j=j: v[f"pooling, jitter {j}: changed % at k=4"] < min(
         v[f"pooling, jitter {j}: changed % at k=3"], v[f"pooling, jitter {j}: changed % at k=5"]))
    for j in (1, 0)
] + [
    (f"{head} head: jitter costs accuracy on unshifted digits",
     lambda v, head=head: (lambda on, off: on < off)(*_jitter_pair(v, head, "accuracy % at k=0")))
    for head in ("flatten", "pooling")
] + [
    ("at k=8 the pooling head beats the flatten head (both trainings)", lambda v: all(
        v[f"pooling, jitter {j}: accuracy % at k=8"] > v[f"flatten, jitter {j}: accuracy % at k=8"]
        for j in (1, 0))),
]


def augmentation(r):
    out = {}
    for s, m in (get(r, "results") or {}).items():
        for key in ("trained", "far", "min", "in_reach", "beyond", "train"):
            out[f"s={s}: {key} %"] = pct(m.get(key))
    return [out]


def _shift_keys(v):
    return sorted({int(k.split(":")[0][2:]) for k in v})


AUGMENTATION_DIRECTIONS = [
    ("inside the reach beats beyond it, for every partial shift range", lambda v: all(
        v[f"s={s}: in_reach %"] > v[f"s={s}: beyond %"] for s in _shift_keys(v)
        if v.get(f"s={s}: beyond %") is not None)),
    ("whole-canvas shifts give the best far quadrant",
     lambda v: v[f"s={max(_shift_keys(v))}: far %"] == max(v[f"s={s}: far %"] for s in _shift_keys(v))),
    ("whole-canvas shifts cost accuracy in the trained region (same epochs)",
     lambda v: v[f"s={max(_shift_keys(v))}: trained %"] < v["s=0: trained %"]),
]


def antialias(r):
    errors, trained = get(r, "equivariance_error") or {}, get(r, "trained") or {}
    out = {f"{k}: mean error at odd shifts": odd_mean(e) for k, e in errors.items()}
    out["largest error at even shifts"] = max((max(e[0::2]) for e in errors.values()), default=None)
    for k, m in trained.items():
        out[f"{k}: accuracy %"], out[f"{k}: consistency %"] = pct(m.get("accuracy")), pct(
            m.get("consistency"))
    return [out]


ANTIALIAS_DIRECTIONS = [
    ("even shifts: every pool's error exactly 0", lambda v: v["largest error at even shifts"] == 0),
    ("odd shifts: MaxBlurPool2D(5) below MaxPool2D(2)", lambda v: v[
        "MaxBlurPool2D(5): mean error at odd shifts"] < v["MaxPool2D(2): mean error at odd shifts"]),
    ("MaxBlurPool2D(3) more consistent than MaxPool2D(2)", lambda v: v[
        "MaxBlurPool2D(3): consistency %"] > v["MaxPool2D(2): consistency %"]),
]


def position_leak(r):
    return [{f"{mode}: {key} %": pct(get(r, mode, key)) for mode in ("zeros", "circular")
             for key in ("test_accuracy", "same_prediction_in_pair")}]


POSITION_LEAK_DIRECTIONS = [
    ("zero padding learns the positions (test > 90%)", lambda v: v["zeros: test_accuracy %"] > 90),
    ("circular padding: exactly 50%", lambda v: v["circular: test_accuracy %"] == 50),
]


def rotation(r):
    out = {}
    for name, m in (get(r, "models") or {}).items():
        for angle, a in (m.get("accuracy") or {}).items():
            out[f"{name}: {angle} deg %"] = pct(a)
        out[f"{name}: max logit change"] = m.get("max_logit_change")
    out["p4 6/9 confusions"] = get(r, "p4_six_nine_confusions")
    return [out]


def _angles(v, name):
    return [x for k, x in v.items() if k.startswith(name + ":") and k.endswith("deg %")]


ROTATION_DIRECTIONS = [
    ("p4 CNN: the same accuracy at every angle", lambda v: spread(_angles(v, "p4 CNN")) == 0),
    ("plain CNN: below 50% at 90 and 270 degrees", lambda v: max(
        v["plain CNN: 90 deg %"], v["plain CNN: 270 deg %"]) < 50),
    ("rotation augmentation narrows the plain CNN's spread", lambda v: spread(
        _angles(v, "plain CNN + rotation aug")) < spread(_angles(v, "plain CNN"))),
]


def receptive_fields(r):
    out = {}
    for row in get(r, "table") or []:
        for key in ("theoretical", "random", "trained", "trained_ratio"):
            out[f"{row.get('layer')}: {key}"] = row.get(key)
    return [out]


RECEPTIVE_FIELDS_DIRECTIONS = [
    ("trained effective field <= theoretical at every layer", lambda v: all(
        v[k] <= v[k.replace("trained", "theoretical")] for k in v if k.endswith(": trained"))),
]


def learned_invariance(r):
    res, seeds = get(r, "results") or {}, get(r, "seeds") or [0]
    rows = []
    for i, _ in enumerate(seeds):
        out = {}
        for key, m in res.items():
            for metric, values in (m.get("per_seed") or {}).items():
                if metric != "far_by_epoch":
                    out[f"{key}: {metric} %"] = pct(values[i])
        rows.append(out)
    return rows


LEARNED_DIRECTIONS = [
    ("flatten, last layer: phase 1 raises the far quadrant",
     lambda v: v["flatten/last: far %"] > v["flatten/random: far %"]),
    ("flatten, every layer: phase 1 raises the far quadrant",
     lambda v: v["flatten/all: far %"] > v["flatten/corner: far %"]),
    ("flatten: far quadrant stays far below the trained region (> 30 points)",
     lambda v: v["flatten/all: trained %"] - v["flatten/all: far %"] > 30),
    ("pooling head without phase 1 beats flatten in the far quadrant",
     lambda v: v["pool/corner: far %"] > v["flatten/corner: far %"]),
    ("fine-tuning forgets digits 0-4 (pooling head)", lambda v: v["pool/all: forgetting %"] > 0),
    ("fine-tuning forgets digits 0-4 (flatten head)", lambda v: v["flatten/all: forgetting %"] > 0),
]

# name: (headlines(result) -> [one dict per seed], directions, trains its own seeds: flag)
HEADLINES = {
    "equivariance": (equivariance, EQUIVARIANCE_DIRECTIONS, None),
    "weight_sharing": (weight_sharing, WEIGHT_SHARING_DIRECTIONS, None),
    "corner": (corner, CORNER_DIRECTIONS, None),
    "fuzzy_features": (fuzzy_features, FUZZY_DIRECTIONS, "--n-seeds"),
    "augmentation": (augmentation, AUGMENTATION_DIRECTIONS, None),
    "antialias": (antialias, ANTIALIAS_DIRECTIONS, None),
    "position_leak": (position_leak, POSITION_LEAK_DIRECTIONS, None),
    "rotation": (rotation, ROTATION_DIRECTIONS, None),
    "receptive_fields": (receptive_fields, RECEPTIVE_FIELDS_DIRECTIONS, None),
    "learned_invariance": (learned_invariance, LEARNED_DIRECTIONS, "--seeds"),
}


def scalars(d, prefix="", depth=0):
    """Every int/float leaf of nested dicts and short lists: {"a/b/0": value}."""
    out = {}
    if depth > 5 or prefix.split("/")[-1] in ("figures", "seconds", "interpretation"):
        return out
    if isinstance(d, dict):
        for k, v in d.items():
            out |= scalars(v, f"{prefix}/{k}" if prefix else str(k), depth + 1)
    elif isinstance(d, (list, tuple, np.ndarray)) and np.size(d) <= 16:
        for i, v in enumerate(d):
            out |= scalars(v, f"{prefix}/{i}", depth + 1)
    elif isinstance(d, (int, float, np.integer, np.floating)) and not isinstance(d, bool):
        out[prefix] = float(d)
    return out


def run(name, argv, quiet):
    """main(argv) of demos/<name>.py; its printout swallowed when quiet."""
    sink = io.StringIO() if quiet else sys.stdout
    with contextlib.redirect_stdout(sink):
        return load_demo(name).main(argv)


def measure(name, seeds, figures, quick, quiet):
    """[{label: value} per seed], with the headline extractor or, failing that, every scalar."""
    extract, _, own_seeds = HEADLINES.get(name, (None, [], None))
    common = ["--quick"] if quick else []
    with tempfile.TemporaryDirectory() as tmp:
        def argv(seed, extra=()):
            out = ["--out", str(figures), *extra] if figures and seed == seeds[0] else \
                  ["--out", tmp, "--no-figures", *extra]
            return ["--seed", str(seed), *out, *common]
        if own_seeds:
            results = [run(name, argv(seeds[0], (own_seeds, str(len(seeds)))), quiet)]
        else:
            results = [run(name, argv(seed), quiet) for seed in seeds]
    rows = []
    for result in results:
        try:
            rows += extract(result) if extract else [scalars(result)]
        except Exception as e:                       # a changed dict: say so, show what is there
            print(f"  {name}: headline extraction failed ({type(e).__name__}: {e}); "
                  f"every scalar instead")
            rows.append(scalars(result))
    return rows, results


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if float(x).is_integer() and abs(x) < 1e7:
        return f"{int(x)}"
    if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e5):
        return f"{x:.1e}"
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.3g}"


def numeric(row):
    """The row with lists spread over labels "label [i]" and anything not a number dropped."""
    out = {}
    for label, v in row.items():
        if v is None or isinstance(v, (int, float, np.integer, np.floating)):
            out[label] = v
        else:
            out |= {f"{label} [{k}]": x for k, x in scalars(v).items()}
    return out


def report(name, rows, seeds):
    """Print mean [min, max] of each label over the seeds, then each direction's verdict."""
    rows = [numeric(row) for row in rows]
    print(f"\n== {name} (seeds {', '.join(map(str, seeds))})")
    labels = list(dict.fromkeys(k for row in rows for k in row))
    width = min(max((len(k) for k in labels), default=10), 70)
    for label in labels:
        values = [row.get(label) for row in rows]
        known = [float(v) for v in values if v is not None]
        if not known:
            print(f"  {label:<{width}}  missing")
            continue
        per_seed = ", ".join(fmt(v) for v in values)
        print(f"  {label:<{width}}  {fmt(np.mean(known))} [{fmt(min(known))}, "
              f"{fmt(max(known))}]   ({per_seed})")
    directions = HEADLINES.get(name, (None, [], None))[1]
    if directions:
        print("  directions:")
    for text, holds in directions:
        verdicts = []
        for row in rows:
            try:
                verdicts.append(bool(holds(row)))
            except (KeyError, TypeError, ValueError, IndexError):
                verdicts.append(None)
        if all(v is True for v in verdicts):
            say = "held at every seed"
        elif None in verdicts:
            say = "could not be read (a key is missing)"
        else:
            say = "held at seeds " + (", ".join(str(s) for s, v in zip(seeds, verdicts) if v)
                                      or "none")
        print(f"    {text}: {say}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("demos", nargs="*", default=list(HEADLINES),
                   help="demo names (default: every experiment demo)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--figures", metavar="DIR",
                   help="the first seed also writes its figures to DIR (e.g. docs)")
    p.add_argument("--quick", action="store_true", help="pass --quick to every demo (default off)")
    p.add_argument("--all", action="store_true", help="also print every scalar each demo returns")
    p.add_argument("--verbose", action="store_true", help="show the demos' own printout")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    for name in args.demos:
        start = time.perf_counter()
        rows, results = measure(name, seeds, args.figures, args.quick, not args.verbose)
        report(name, rows, seeds)
        if args.all and name in HEADLINES:
            report(f"{name}: every scalar", [scalars(r) for r in results],
                   seeds[:len(results)])
        print(f"  ({time.perf_counter() - start:.0f} s)")
    if MISSING:
        print("\nkeys not found in a demo's returned dict:")
        for path in dict.fromkeys(MISSING):
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
