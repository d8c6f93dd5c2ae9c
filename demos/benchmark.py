"""How fast is minicnn's NumPy convolution? Naive loops vs the fast path vs PyTorch, in one process.

For a fixed list of convolution shapes it times, forward and forward+backward:
  - the naive loop convolution (on a small batch, scaled per image to the full batch),
  - the fast convolution (float32): conv2d_fast, which runs im2col, or Winograd F(2x2, 3x3) on
    3x3 stride-1 layers with 16+ input channels and enough work (the last column says which),
  - the readable Winograd (minicnn/fast/winograd.py) on 3x3 stride-1 shapes (forward+backward),
  - torch.nn.functional.conv2d + autograd, when torch can be imported (optional reference only:
    minicnn itself never imports torch),
then 2x2 max pooling, and one training step (forward, backward, SGD momentum update) of the corner
experiment's network at 1 and 2 threads. Channel-rich shapes are reported apart from
single-channel ones. NumPy and torch rounds are interleaved and every ratio is the median of
per-round ratios, because the machine is shared and noisy. GFLOP/s are compared with a float32
matrix product of the same size measured in the same run: the machine's practical limit.

Run:  python demos/benchmark.py [--quick] [--threads N] [--repeats R] [--seed S] [--clock cpu]
                                [--json FILE]
No figures, so no --out: --json FILE keeps the numbers.
--threads N sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS before numpy is imported and gives torch
the same number. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, if set, are reported, never changed; the
BLAS kernel that runs (threadpoolctl's `architecture`, e.g. SkylakeX or Haswell) is printed first.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import platform
import statistics
import sys
import time
import tracemalloc

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--quick", action="store_true",
                    help="3 repeats, 1 naive image, 1 naive round, training step on 1 thread "
                         "(default off: 9, 2, 3, and 1 and 2 threads)")
parser.add_argument("--threads", type=int, default=None,
                    help="threads for numpy's BLAS and torch (default: numpy's current count)")
parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 9; quick 3)")
parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: elapsed time (default); cpu: this process's CPU time, which other "
                         "programs on a shared machine disturb less (meaningful with --threads 1)")
parser.add_argument("--json", default=None,
                    help="also write every number to this JSON file (default: none)")
args = parser.parse_args()
if args.threads is not None:          # must happen before numpy loads its BLAS
    # With threadpoolctl the BLAS starts with at least 2 threads and is limited to N at once:
    # OpenBLAS cannot efficiently go above the thread count it started with, and the training
    # step is also timed on 2 threads. Without threadpoolctl, N exactly.
    start = max(args.threads, 2) if importlib.util.find_spec("threadpoolctl") else args.threads
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(start)

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # run from anywhere
from minicnn import SGD, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential, softmax_cross_entropy
from minicnn.fast.winograd import conv2d_winograd, conv2d_winograd_backward
from minicnn.fast.conv import uses_winograd
from minicnn.layers.conv import (
    conv2d_fast,
    conv2d_fast_backward,
    conv2d_naive,
    conv2d_naive_backward,
)
from minicnn.layers.pool import maxpool2d_fast, maxpool2d_fast_backward

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None
try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None

REPEATS = args.repeats or (3 if args.quick else 9)
clock = time.process_time if args.clock == "cpu" else time.perf_counter
NAIVE_BATCH = 1 if args.quick else 2
MIN_ROUND_SECONDS = 0.02          # a round repeats a call until it lasts at least this long
# (N, C, H, W, F, K, stride, pad): the fixed shapes, in groups reported apart. The channel-rich
# layers do the real work of a CNN; on single-channel inputs PyTorch is unusually slow, so a
# mean over both would flatter NumPy.
SHAPE_GROUPS = {"channel-rich": [(64, 16, 16, 16, 32, 3, 1, 1), (64, 32, 8, 8, 64, 3, 1, 1),
                                 (32, 64, 32, 32, 64, 3, 1, 1)],
                "single-channel": [(64, 1, 32, 32, 16, 3, 1, 1), (128, 1, 28, 28, 16, 5, 1, 0)],
                "strided": [(64, 16, 32, 32, 32, 3, 2, 1)]}
SHAPES = [shape for group in SHAPE_GROUPS.values() for shape in group]
POOL_SHAPES = [(64, 16, 32, 32), (64, 32, 16, 16)]   # the corner network's pooling inputs

blas = threadpoolctl.threadpool_info() if threadpoolctl else []
threads = args.threads or next((p["num_threads"] for p in blas if p["user_api"] == "blas"),
                               os.cpu_count())
started = next((p["num_threads"] for p in blas if p["user_api"] == "blas"), threads)
# The training step at 1 and 2 threads, never above the count the BLAS started with (see above).
TRAIN_THREADS = tuple(n for n in (1, 2) if n <= started) if threadpoolctl else (None,)
TRAIN_THREADS = TRAIN_THREADS[:1] if args.quick else TRAIN_THREADS   # --quick: 1 thread only
if threadpoolctl:
    threadpoolctl.threadpool_limits(threads)
    blas = threadpoolctl.threadpool_info()
if torch is not None:
    torch.set_num_threads(threads)
rng = np.random.default_rng(args.seed)
results = {"threads": threads, "repeats": REPEATS, "clock": args.clock,
           "naive_batch": NAIVE_BATCH, "seed": args.seed,
           "numpy": np.__version__, "torch": torch.__version__ if torch else None,
           "cpu": platform.processor() or platform.machine(),
           "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
           "blas": [{k: p.get(k) for k in ("internal_api", "num_threads", "architecture")}
                    for p in blas], "conv": [], "pool": [], "train": None}


def calls_per_round(fn):
    """Warm up once, then pick how many calls make one round last MIN_ROUND_SECONDS."""
    start = clock()
    fn()
    return max(1, int(MIN_ROUND_SECONDS / max(clock() - start, 1e-6)))


def time_round(fn, calls):
    start = clock()
    for _ in range(calls):
        fn()
    return (clock() - start) / calls


def interleaved(fns):
    """Time {name: fn} in interleaved rounds. Returns ({name: median s}, [{name: s} per round])."""
    calls = {name: calls_per_round(fn) for name, fn in fns.items()}
    rounds = []
    for r in range(REPEATS):
        order = list(fns) if r % 2 == 0 else list(fns)[::-1]     # alternate who goes first
        rounds.append({name: time_round(fns[name], calls[name]) for name in order})
    return {name: statistics.median(t[name] for t in rounds) for name in fns}, rounds


def round_ratios(rounds, a, b):
    """a's time over b's in each round (both timed in the same round)."""
    return [t[a] / t[b] for t in rounds]


def median_ratio(rounds, a, b):
    return statistics.median(round_ratios(rounds, a, b))


def ratio_quartiles(rounds, a, b):
    """The middle half of the per-round ratios [first quartile, third quartile]: how far one
    round's ratio strays on this machine (a single round: that ratio twice)."""
    ratios = round_ratios(rounds, a, b)
    if len(ratios) < 2:
        return [ratios[0], ratios[0]]
    q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")   # within the data
    return [q1, q3]


def peak_mb(fn):
    """Peak bytes that fn allocates (numpy reports its buffers to tracemalloc), in MB."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def geomean(values):
    return float(np.exp(np.mean(np.log(values))))


# ---- convolution --------------------------------------------------------------------------
def bench_conv(N, C, H, W, F, K, s, p):
    """Time one shape: naive, fast and torch, forward and forward+backward. Returns a row."""
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F, C, K, K), dtype=np.float32) * np.float32(np.sqrt(2 / (C * K * K)))
    b = rng.standard_normal(F, dtype=np.float32)
    stride, pads = (s, s), (p, p, p, p)
    Ho, Wo = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
    dout = rng.standard_normal((N, F, Ho, Wo), dtype=np.float32)
    flops = 2.0 * N * F * Ho * Wo * C * K * K                  # one pass; fwd+bwd is 3 passes

    def fast_fwd():
        return conv2d_fast(x, w, b, stride, pads)

    def fast_both():
        return conv2d_fast_backward(dout, conv2d_fast(x, w, b, stride, pads)[1])

    A = rng.standard_normal((F, C * K * K), dtype=np.float32)   # the forward's matrix product
    B = rng.standard_normal((C * K * K, N * Ho * Wo), dtype=np.float32)
    fns = {"fast_fwd": fast_fwd, "fast_both": fast_both, "matmul": lambda: np.matmul(A, B)}
    if K == 3 and s == 1:                     # Winograd F(2x2, 3x3) applies: time it too
        fns["wino_both"] = lambda: conv2d_winograd_backward(
            dout, conv2d_winograd(x, w, b, stride, pads)[1])
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        tdout = torch.from_numpy(dout)

        def torch_fwd():
            return TF.conv2d(tx, tw, tb, stride=s, padding=p)

        def torch_both():
            tx.grad = tw.grad = tb.grad = None
            TF.conv2d(tx, tw, tb, stride=s, padding=p).backward(tdout)

        fns.update(torch_fwd=torch_fwd, torch_both=torch_both)
    med, rounds = interleaved(fns)

    xs, ds = x[:NAIVE_BATCH], dout[:NAIVE_BATCH]
    naive_rounds = []
    for _ in range(1 if args.quick else 3):
        t0 = clock()
        _, cache = conv2d_naive(xs, w, b, stride, pads)
        t1 = clock()
        conv2d_naive_backward(ds, cache)
        t2 = clock()
        naive_rounds.append((t1 - t0, t2 - t0))
    scale = N / NAIVE_BATCH
    naive_fwd = statistics.median(r[0] for r in naive_rounds) * scale
    naive_both = statistics.median(r[1] for r in naive_rounds) * scale
    group = next(g for g, shapes in SHAPE_GROUPS.items() if (N, C, H, W, F, K, s, p) in shapes)
    row = {"shape": {"N": N, "C": C, "H": H, "W": W, "F": F, "K": K, "stride": s, "pad": p},
           "group": group,
           "ms": {k: 1e3 * v for k, v in med.items()},
           "naive_ms": {"fwd": 1e3 * naive_fwd, "both": 1e3 * naive_both},
           "speedup_vs_naive": naive_both / med["fast_both"],
           "matmul_gflops": flops / med["matmul"] / 1e9,
           "fast_gflops": 3 * flops / med["fast_both"] / 1e9,
           "fast_peak_mb": peak_mb(fast_both), "input_mb": x.nbytes / 2**20,
           "fast_method": "winograd" if uses_winograd(x.shape, w, stride, pads) else "im2col"}
    row["fast_fraction_of_matmul"] = row["fast_gflops"] / row["matmul_gflops"]
    if torch is not None:
        row["ratio_fwd"] = median_ratio(rounds, "fast_fwd", "torch_fwd")
        row["ratio_both"] = median_ratio(rounds, "fast_both", "torch_both")
        row["torch_gflops"] = 3 * flops / med["torch_both"] / 1e9
        row["torch_fraction_of_matmul"] = row["torch_gflops"] / row["matmul_gflops"]
        if "wino_both" in med:
            row["ratio_wino_both"] = median_ratio(rounds, "wino_both", "torch_both")
    return row


results["conv"] = [bench_conv(*shape) for shape in SHAPES]

# ---- max pooling 2x2 ----------------------------------------------------------------------
def bench_pool(shape):
    """Time 2x2 max pooling forward+backward, fast and torch. Returns a row."""
    x = rng.standard_normal(shape, dtype=np.float32)
    dout = rng.standard_normal((*shape[:2], shape[2] // 2, shape[3] // 2), dtype=np.float32)

    def pool_both():
        return maxpool2d_fast_backward(dout, maxpool2d_fast(x, (2, 2), (2, 2))[1])

    fns = {"fast_both": pool_both}
    if torch is not None:
        tx, tdout = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(dout)

        def torch_pool():
            tx.grad = None
            TF.max_pool2d(tx, 2).backward(tdout)

        fns["torch_both"] = torch_pool
    med, rounds = interleaved(fns)
    row = {"shape": shape, "ms": {k: 1e3 * v for k, v in med.items()},
           "fast_peak_mb": peak_mb(pool_both)}
    if torch is not None:
        row["ratio_both"] = median_ratio(rounds, "fast_both", "torch_both")
    return row


results["pool"] = [bench_pool(shape) for shape in POOL_SHAPES]

# ---- one training step of the corner network ----------------------------------------------
N = 64
x = rng.standard_normal((N, 1, 32, 32), dtype=np.float32)
y = rng.integers(0, 10, N)
model = Sequential([Conv2D(1, 16, 3, padding=1, rng=1), ReLU(), MaxPool2D(2),
                    Conv2D(16, 32, 3, padding=1, rng=2), ReLU(), MaxPool2D(2),
                    Conv2D(32, 64, 3, padding=1, rng=3), ReLU(), Flatten(), Linear(64 * 8 * 8, 10)])
opt = SGD(lr=1e-3, momentum=0.9)


def numpy_step():
    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    model.backward(dlogits)
    opt.step(model)


fns = {"numpy": numpy_step}
if torch is not None:
    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(64 * 8 * 8, 10))
    topt = torch.optim.SGD(tnet.parameters(), lr=1e-3, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step():
        topt.zero_grad()
        TF.cross_entropy(tnet(tx), ty).backward()
        topt.step()

    fns["torch"] = torch_step


def bench_train(n_threads):
    """Time the training step with n_threads for numpy's BLAS and torch (None: as they are)."""
    limit = threadpoolctl.threadpool_limits(n_threads) if n_threads else None
    if torch is not None and n_threads:
        torch.set_num_threads(n_threads)
    med, rounds = interleaved(fns)
    row = {"threads": n_threads or threads, "ms": {k: 1e3 * v for k, v in med.items()},
           "images_per_s": {k: N / v for k, v in med.items()},
           "fast_peak_mb": peak_mb(numpy_step) if n_threads == TRAIN_THREADS[0] else None}
    if torch is not None:
        row["ratio"] = median_ratio(rounds, "numpy", "torch")
        row["ratio_quartiles"] = ratio_quartiles(rounds, "numpy", "torch")
        torch.set_num_threads(threads)
    if limit is not None:
        limit.restore_original_limits()
    return row


results["train"] = [bench_train(n) for n in TRAIN_THREADS]

# ---- report -------------------------------------------------------------------------------
blas_text = ", ".join(f"{p['internal_api']} {p['architecture']} x{p['num_threads']}"
                      for p in results["blas"]) or "threadpoolctl not installed"
kernels = sorted({p["architecture"] for p in results["blas"] if p["architecture"]})
results["blas_kernel"] = ", ".join(kernels) or None
print(f"BLAS kernel in use (threadpoolctl 'architecture'): {results['blas_kernel'] or 'unknown'}"
      "  (it decides float32 rounding and speed; OPENBLAS_CORETYPE forces one)")
print(f"threads={threads} (numpy BLAS and torch)  BLAS: {blas_text}  repeats={REPEATS}  "
      f"clock={args.clock}")
print(f"OPENBLAS_* set: {results['openblas_env'] or 'none'}  numpy {np.__version__}  "
      f"torch {results['torch'] or 'not importable: torch columns skipped'}")
print(f"naive timed on {NAIVE_BATCH} image(s) and scaled to the full batch; all float32\n")
has_torch = torch is not None


def wino_text(r):
    """The Winograd columns of a row: its time and its ratio to torch, or '-' where it does
    not apply (not 3x3 stride 1) or torch is missing."""
    ms = f"{r['ms']['wino_both']:12.2f}" if "wino_both" in r["ms"] else f"{'-':>12}"
    return ms + (f"{r['ratio_wino_both']:10.2f}x" if "ratio_wino_both" in r else f"{'-':>11}")


print(f"{'conv shape N,C,HxW,F,k,s,p':<28}{'naive ms':>9}{'fast ms':>9}{'torch ms':>9}"
      f"{'fast/torch':>11}{'fwd only':>9}{'vs naive':>9}{'GFLOP/s: fast':>14}{'torch':>6}"
      f"{'matmul':>7}{'peak MB':>8}{'winograd ms':>12}{'wino/torch':>11}{'fast is':>9}")
for group in SHAPE_GROUPS:
    rows = [r for r in results["conv"] if r["group"] == group]
    print(f"-- {group}")
    for r in rows:
        d = r["shape"]
        name = f"{d['N']},{d['C']},{d['H']}x{d['W']},{d['F']},{d['K']},{d['stride']},{d['pad']}"
        tms = f"{r['ms']['torch_both']:9.2f}" if has_torch else f"{'-':>9}"
        rat = (f"{r['ratio_both']:10.2f}x{r['ratio_fwd']:8.2f}x" if has_torch
               else f"{'-':>11}{'-':>9}")
        tgf = f"{r['torch_gflops']:6.0f}" if has_torch else f"{'-':>6}"
        print(f"{name:<28}{r['naive_ms']['both']:9.0f}{r['ms']['fast_both']:9.2f}{tms}{rat}"
              f"{r['speedup_vs_naive']:8.0f}x{r['fast_gflops']:14.0f}{tgf}"
              f"{r['matmul_gflops']:7.0f}{r['fast_peak_mb']:8.1f}"
              f"{wino_text(r)}{r['fast_method']:>9}")
    if has_torch:
        g = geomean([r["ratio_both"] for r in rows])
        results[f"geomean_ratio_both_{group}"] = g
        print(f"{'  geometric mean':<28}{'':27}{g:10.2f}x"
              f"{geomean([r['ratio_fwd'] for r in rows]):8.2f}x")
if has_torch:
    results["geomean_ratio_both"] = geomean([r["ratio_both"] for r in results["conv"]])
    results["geomean_ratio_fwd"] = geomean([r["ratio_fwd"] for r in results["conv"]])
print("(times are forward+backward; 'fwd only' is the forward ratio; GFLOP/s of forward+backward "
      "(3 products' worth, as im2col counts them) beside a float32 matmul of the forward's size, "
      "same run; 'winograd ms' is the readable Winograd, 'fast is' what conv2d_fast ran)\n")
for r in results["pool"]:
    tail = (f"torch {r['ms']['torch_both']:.2f} ms  fast/torch {r['ratio_both']:.2f}x"
            if has_torch else "torch skipped")
    print(f"maxpool 2x2 fwd+bwd {tuple(r['shape'])}: fast {r['ms']['fast_both']:.2f} ms  {tail}"
          f"  peak {r['fast_peak_mb']:.1f} MB")
for t in results["train"]:
    tail = (f"torch {t['ms']['torch']:.1f} ms  numpy/torch time {t['ratio']:.2f}x (middle half "
            f"of the rounds {t['ratio_quartiles'][0]:.2f}-{t['ratio_quartiles'][1]:.2f}x)"
            if has_torch else "torch skipped")
    print(f"corner training step N=64 32x32 SGD momentum, threads={t['threads']}: "
          f"numpy {t['ms']['numpy']:.1f} ms  {tail}"
          + (f"  peak {t['fast_peak_mb']:.1f} MB" if t["fast_peak_mb"] else ""))
if has_torch:               # a sentence from the numbers, not a verdict written in advance
    g, per_shape = results["geomean_ratio_both"], [r["ratio_both"] for r in results["conv"]]
    print(f"\nOn these {len(SHAPES)} shapes the fast convolution (forward + backward) takes "
          f"{g:.2f}x PyTorch's time (geometric mean): {'slower' if g > 1 else 'faster'} than "
          f"PyTorch in this run; per shape {min(per_shape):.2f}x to {max(per_shape):.2f}x; "
          f"channel-rich shapes {results['geomean_ratio_both_channel-rich']:.2f}x.")
if args.json:
    pathlib.Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")
