"""Training loop: `fit`, `evaluate`, `accuracy`.

One step is forward, loss, backward, update (`train_step`); `fit` repeats it over shuffled
minibatches for a number of epochs. The safety around the step lives in resilience.py:
- NaN or inf in a batch, the loss, a gradient or an update stops `fit` with a `NonFiniteError`
  naming the epoch, the batch and the layer, before the bad update is applied;
- Ctrl-C returns the history so far with history["interrupted"] = True; a step is applied all or
  nothing, so the model holds the weights after the last complete step;
- `checkpoint=PATH` saves after every epoch and on Ctrl-C; `resume=PATH` continues so that the
  result is bit-identical to a run that never stopped.
"""

import os
import types

import numpy as np

from .files import check_writable
from .layers.base import Layer, ShapeError, as_rng, check_float_array, check_int
from .losses import check_labels, softmax_cross_entropy
from .optim import SGD, Optimizer
from .resilience import NonFiniteError, TrainingRun  # noqa: F401 (re-exported)


def train_step(model, xb, yb, optimizer):
    """One update on a batch: forward, loss, backward, step. Returns (loss, number correct).

    xb: (B, C, H, W) floats; yb: (B,) int labels. The loss refuses NaN or inf logits and the
    optimiser refuses a NaN or inf gradient or update, so a refused step changes nothing.
    """
    logits = model.forward(xb)                                     # (B, K)
    loss, dlogits = softmax_cross_entropy(logits, yb)              # dlogits: (B, K)
    model.backward(dlogits)                                        # fills every layer's grads
    optimizer.step(model)                                          # all or nothing
    return loss, int((logits.argmax(axis=1) == yb).sum())


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
    continue from (same data, batch_size, shuffle and optimiser settings); `epochs` is the total.
    The model trains in training mode and is validated in evaluation mode (model.train() /
    .eval(), which only Dropout notices); afterwards every layer has the mode it had before.
    History keys: "loss", "acc" (per epoch, on the training batches) and, with validation data,
    "val_loss", "val_acc"; after Ctrl-C also "interrupted": True. An epoch whose mean loss is
    over a thousand times a uniform guess's (ln K) gives a RuntimeWarning: it is diverging.
    """
    X, y, K = check_dataset(model, X, y, "fit")
    epochs = check_int(epochs, "epochs", "fit", minimum=0)
    batch_size = check_int(batch_size, "batch_size", "fit", minimum=1)
    validation_data = check_validation_data(model, validation_data)
    optimizer = check_optimizer(optimizer, model)
    check_transform(transform)
    check_resume(resume, checkpoint)
    if checkpoint is not None:
        check_writable(checkpoint, "fit: checkpoint")
    rng = as_rng(rng)
    run = TrainingRun(model, optimizer, rng, (len(X), K), batch_size, shuffle, epochs,
                      validation_data is not None, progress, checkpoint, resume)
    with run.guard(), model.mode(True):        # Ctrl-C: stop cleanly; NaN: name epoch and batch
        while run.epoch < epochs:
            for idx in run.batches(shuffle):                       # the rest of them on resume
                xb = X[idx] if transform is None else checked_transform(transform, X[idx], rng)
                with run.step(xb):                                 # all or nothing
                    loss, correct = train_step(model, xb, y[idx], optimizer)
                    run.applied(loss, correct)
            val = evaluate(model, *validation_data) if validation_data is not None else None
            run.end_epoch(val)                                     # history, checkpoint
    return run.result()


def check_optimizer(optimizer, model):
    """The optimiser fit will use: an Optimizer instance (default SGD(0.05, momentum=0.9)), for
    a model whose parameters are floating point (an integer weight cannot take a small step)."""
    if optimizer is None:
        optimizer = SGD(0.05, momentum=0.9)
    example = "mc.Adam(1e-3) or mc.SGD(0.05, momentum=0.9)"
    if isinstance(optimizer, type):
        raise TypeError(f"fit: optimizer must be an optimiser object such as {example}, got "
                        f"the class {optimizer.__name__} itself (brackets forgotten?): pass "
                        f"optimizer={optimizer.__name__}(...) with its learning rate")
    if not isinstance(optimizer, Optimizer):
        hint = (" (minicnn takes the object, not its name)" if isinstance(optimizer, str)
                else " (an optimiser of your own subclasses minicnn.optim.Optimizer)")
        raise TypeError(f"fit: optimizer must be an optimiser object such as {example}, got "
                        f"{optimizer!r}{hint}")
    for name, p, _ in model.param_items():
        if not np.issubdtype(p.dtype, np.floating):
            raise TypeError(f"fit: parameter {name} of the model is {p.dtype}, which cannot "
                            "train (every step would be rounded away); build the layer with "
                            "dtype=np.float32, or call model.astype(np.float32)")
    return optimizer


def check_validation_data(model, validation_data):
    """None, or a pair (X_val, y_val) checked like the training data."""
    if validation_data is None:
        return None
    if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
        got = (f"an array of shape {validation_data.shape} (the labels left out?)"
               if isinstance(validation_data, np.ndarray) else describe(validation_data))
        raise TypeError(f"fit: validation_data must be a pair (X_val, y_val), got {got}; pass "
                        "validation_data=(X_val, y_val)")
    return check_dataset(model, *validation_data, "fit(validation_data)")[:2]


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


def check_transform(transform):
    """None, a function (x_batch, rng) -> x_batch, or an object such as RandomShift(2)."""
    if transform is not None and (isinstance(transform, type) or not callable(transform)):
        raise TypeError(f"fit: transform must be a function (x_batch, rng) -> x_batch or an "
                        f"object such as augment.RandomShift(2), got {transform!r}"
                        + (" (the class itself: call it with its arguments)"
                           if isinstance(transform, type) else ""))


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
    """(mean cross-entropy loss, accuracy) of the model on (X, y), in evaluation mode.

    A model whose logits overflow to NaN or inf raises NonFiniteError (from the loss)."""
    X, y, _ = check_dataset(model, X, y, "evaluate")
    logits = model.logits(X, batch_size)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, float((logits.argmax(axis=1) == y).mean())


def accuracy(model, X, y, batch_size=256):
    """Fraction of examples whose predicted class equals the label (evaluation mode)."""
    return evaluate(model, X, y, batch_size)[1]


def check_dataset(model, X, y, where):
    """Check X (float, finite, batch first) and y (ints in range) against the model.

    Returns (X, y as int64, number of classes K read off the model's output shape).
    """
    check_is_model(model, where)
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
    K = num_classes(model, X.shape[1:], where)
    return X, check_labels(y, len(X), K, where), K


def check_is_model(model, where):
    """`model` must be a built Sequential (or alike): not a class or a function that builds one,
    not a lone layer, not the data."""
    if not isinstance(model, type) and all(hasattr(model, a) for a in
                                           ("forward", "backward", "output_shapes", "mode")):
        return
    if isinstance(model, (type, types.FunctionType)):
        kind = "class" if isinstance(model, type) else "function"
        got = f"the {kind} {model.__name__} (call it to build the model first)"
    elif isinstance(model, Layer):
        got = f"the layer {model!r} (put the layers in a Sequential([...]))"
    elif isinstance(model, np.ndarray):
        got = f"an array ({where}(model, X, y): the model comes first)"
    else:
        got = type(model).__name__
    raise TypeError(f"{where}: model must be a built network such as "
                    f"Sequential([Flatten(), Linear(64, 10)]), got {got}")


def num_classes(model, example_shape, where):
    """K, the number of logits `model` gives for one example of `example_shape`."""
    out_shape = model.output_shapes((1, *example_shape))[-1][1]
    if len(out_shape) != 2:
        raise ShapeError(f"{where}: the model's output has shape {out_shape} for one example, "
                         "but a classifier must output (N, K) logits: end it with Flatten() "
                         "and Linear, or a global pooling layer")
    return out_shape[-1]


def describe(value):
    """A short description of what came: a sequence by its items' shapes, not its full repr."""
    if isinstance(value, (tuple, list)):
        items = ", ".join(f"array {v.shape}" if isinstance(v, np.ndarray) else type(v).__name__
                          for v in value)
        return f"a {type(value).__name__} of {len(value)} items ({items})"
    return repr(value)[:80]
