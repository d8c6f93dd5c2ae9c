"""Training loop: `fit`, `evaluate`, `accuracy`.

One step is forward, loss, backward, update (`train_step`); `fit` repeats it over shuffled
minibatches for a number of epochs. Nothing else happens behind the scenes except the checks
that keep a run safe, which live in resilience.py:
- NaN or inf in the loss, a gradient or an update stops `fit` with a `NonFiniteError` naming the
  epoch, the batch and the layer, before the bad update is applied;
- Ctrl-C returns the history so far with history["interrupted"] = True; a step is applied all or
  nothing, so the model holds the weights after the last complete step;
- `checkpoint=PATH` saves after every epoch and on Ctrl-C; `resume=PATH` continues so that the
  result is bit-identical to a run that never stopped.
"""

import os

import numpy as np

from .layers.base import ShapeError, as_rng, check_float_array, check_int
from .losses import check_labels, softmax_cross_entropy
from .optim import SGD
from .resilience import (
    NonFiniteError,  # noqa: F401 (re-exported: minicnn.NonFiniteError)
    TrainingRun,
    check_finite_input,
    check_grads,
    check_loss,
    check_update,
    interrupts_deferred,
)


def train_step(model, xb, yb, optimizer, where="train_step", on_applied=None):
    """One update on a batch: forward, loss, backward, step. Returns (loss, number correct).

    xb: (B, C, H, W) floats; yb: (B,) int labels. If the loss, a gradient or the update is NaN
    or inf, raises NonFiniteError (naming the layer) before any weight changes.
    `on_applied(loss, correct)` runs together with the update, safe from Ctrl-C.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # checked instead
        logits = model.forward(xb)                                 # (B, K)
        loss, dlogits = softmax_cross_entropy(logits, yb)          # dlogits: (B, K)
        check_loss(loss, where)
        model.backward(dlogits)                                    # fills every layer's grads
        check_grads(model, where)
        update = optimizer.compute_step(model)                     # new values; none applied
    check_update(model, update, optimizer, where)
    correct = int((logits.argmax(axis=1) == yb).sum())
    with interrupts_deferred():                                    # all or nothing
        optimizer.apply_step(model, update)
        if on_applied is not None:
            on_applied(loss, correct)
    return loss, correct


def fit(model, X, y, epochs=10, batch_size=64, optimizer=None, transform=None,
        validation_data=None, shuffle=True, rng=0, progress=True, checkpoint=None,
        resume=None):
    """Train `model` on (X, y) with minibatches; returns the history as a dict of lists.

    X: (N, C, H, W) floats; y: (N,) int labels; optimizer: default SGD(0.05, momentum=0.9);
    transform: a function (x_batch, rng) -> x_batch applied to every fresh batch (augmentation
    plugs in here, so each epoch sees new random copies); validation_data: (X_val, y_val);
    rng: int seed, Generator or None, driving the shuffling and the transform;
    progress: a tqdm bar per epoch.
    checkpoint: path written after every epoch and on Ctrl-C; resume: path of a checkpoint to
    continue from (same data, batch_size, shuffle and optimiser class); `epochs` is the total.
    The model trains in training mode and is validated in evaluation mode (model.train() /
    .eval(), which only Dropout notices); afterwards every layer has the mode it had before.
    History keys: "loss", "acc" (per epoch, on the training batches) and, with validation data,
    "val_loss", "val_acc"; after Ctrl-C also "interrupted": True.
    """
    X, y = check_dataset(model, X, y, "fit")
    epochs = check_int(epochs, "epochs", "fit", minimum=0)
    batch_size = check_int(batch_size, "batch_size", "fit", minimum=1)
    if validation_data is not None:
        validation_data = check_dataset(model, *validation_data, "fit(validation_data)")
    optimizer = optimizer if optimizer is not None else SGD(0.05, momentum=0.9)
    check_resume(resume, checkpoint)
    rng, N = as_rng(rng), len(X)
    run = TrainingRun(model, optimizer, rng, N, batch_size, shuffle, epochs,   # where we stand
                      validation_data is not None, progress, checkpoint, resume)
    with run.guard(), model.mode(True):        # Ctrl-C: stop cleanly; NaN: name epoch and batch
        while run.epoch < epochs:
            if run.order is None:                                  # a fresh epoch: shuffle
                run.order = rng.permutation(N) if shuffle else np.arange(N)
            for b in run.batches_left():                           # all, or the rest on resume
                idx = run.order[b * batch_size:(b + 1) * batch_size]
                xb = X[idx] if transform is None else checked_transform(transform, X[idx], rng)
                check_finite_input(xb, run.where)
                loss, correct = train_step(model, xb, y[idx], optimizer, run.where, run.applied)
                run.show(loss, correct / len(idx))
            val = evaluate(model, *validation_data) if validation_data is not None else None
            run.end_epoch(val)                                     # history, checkpoint
    return run.result()


def check_resume(resume, checkpoint):
    """fit(resume=PATH) needs an existing checkpoint file; say so before anything starts."""
    if resume is None:
        return
    if not isinstance(resume, (str, os.PathLike)):
        raise TypeError(f"fit: resume must be the path of a checkpoint (str or os.PathLike) or "
                        f"None, got {resume!r}")
    if not os.path.exists(resume):
        hint = ("" if checkpoint is not None else
                f"; fit(..., checkpoint={os.fspath(resume)!r}) writes one after every epoch")
        raise FileNotFoundError(f"fit: resume={os.fspath(resume)!r}: no checkpoint at "
                                f"{os.fspath(resume)!r} to continue from (to start from the "
                                f"beginning, leave resume=None){hint}")


def checked_transform(transform, xb, rng):
    """transform(xb, rng), which must return a floating-point array shaped like xb."""
    out = transform(xb, rng)
    name = getattr(transform, "__name__", None) or repr(transform)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"fit: transform {name} returned {type(out).__name__}"
                        f"{' (no return statement?)' if out is None else ''}, expected an "
                        f"array of shape {xb.shape} like the batch it was given")
    if out.shape != xb.shape:
        raise ShapeError(f"fit: transform {name} returned an array of shape {out.shape}, "
                         f"expected the shape of the batch it was given, {xb.shape}")
    if not np.issubdtype(out.dtype, np.floating):
        raise TypeError(f"fit: transform {name} returned an array of dtype {out.dtype}, "
                        f"expected floating point like the batch it was given ({xb.dtype})")
    return out


def evaluate(model, X, y, batch_size=256):
    """(mean cross-entropy loss, accuracy) of the model on (X, y), in evaluation mode."""
    X, y = check_dataset(model, X, y, "evaluate")
    logits = model.logits(X, batch_size)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, float((logits.argmax(axis=1) == y).mean())


def accuracy(model, X, y, batch_size=256):
    """Fraction of examples whose predicted class equals the label (evaluation mode)."""
    return evaluate(model, X, y, batch_size)[1]


def check_dataset(model, X, y, where):
    """Check X (float, finite, batch first) and y (ints in range) against the model.

    Returns (X, y as int64). The number of classes is read off the model's output shape.
    """
    X = check_float_array(X, "X", where)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ShapeError(f"{where}: X must hold at least one example, batch axis first, "
                         f"got X.shape={X.shape}")
    if len(np.shape(y)) >= 1 and len(y) != len(X):
        raise ShapeError(f"{where}: X and y have different lengths: len(X)={len(X)}, "
                         f"len(y)={len(y)}")
    if not np.all(np.isfinite(X)):
        bad = np.argwhere(~np.isfinite(X.reshape(len(X), -1)).all(axis=1)).ravel()
        raise ValueError(f"{where}: X contains NaN or inf (in {len(bad)} "
                         f"example{'s' * (len(bad) != 1)}, first at index {bad[0]})")
    out_shape = model.output_shapes((1, *X.shape[1:]))[-1][1]
    if len(out_shape) != 2:
        raise ShapeError(f"{where}: the model's output has shape {out_shape} for one example, "
                         "but a classifier must output (N, K) logits: end it with Flatten() "
                         "and Linear, or a global pooling layer")
    return X, check_labels(y, len(X), out_shape[-1], where)
