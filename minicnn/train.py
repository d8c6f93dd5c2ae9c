"""Training loop: `fit`, `evaluate`, `accuracy`.

One step is forward, loss, backward, update: nothing more happens behind the scenes, except the
checks that keep a run safe:
- NaN or inf in the loss, a gradient or an update stops `fit` with a `NonFiniteError` naming the
  epoch, the batch and the layer, *before* the bad update is applied: the model keeps the last
  good weights.
- Ctrl-C returns the history so far with history["interrupted"] = True; the model holds the
  weights after the last complete step (a step is applied all or nothing).
- `checkpoint=PATH` saves everything needed to continue after every epoch and on Ctrl-C;
  `resume=PATH` continues so that the result is bit-identical to a run that never stopped.
"""

import sys

import numpy as np
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .layers.base import ShapeError, check_float_array
from .losses import check_labels, softmax_cross_entropy
from .optim import SGD, interrupts_deferred


class NonFiniteError(FloatingPointError):
    """Training produced NaN or inf. `epoch` and `batch` count from 1; `layer` is the index of
    the layer whose gradient or update went non-finite, or "loss" / "input"."""

    def __init__(self, message, epoch=None, batch=None, layer=None):
        super().__init__(message)
        self.epoch, self.batch, self.layer = epoch, batch, layer


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
        raise ValueError(f"{where}: X contains NaN or inf (in {len(bad)} example{'s' * (len(bad) != 1)}, first at "
                         f"index {bad[0]})")
    out_shape = model.output_shapes((1, *X.shape[1:]))[-1][1]
    if len(out_shape) != 2:
        raise ShapeError(f"{where}: the model's output has shape {out_shape} for one example, "
                         "but a classifier must output (N, K) logits: end it with Flatten() "
                         "and Linear, or a global pooling layer")
    return X, check_labels(y, len(X), out_shape[-1], where)


def _nonfinite_grad(model):
    """(index, layer, key) of the first layer, in backward order, with a non-finite gradient."""
    for i in reversed(range(len(model.layers))):
        for key, g in model.layers[i].grads.items():
            if not np.all(np.isfinite(g)):
                return i, model.layers[i], key
    return None


def train_step(model, xb, yb, optimizer, where="train_step", on_applied=None):
    """One update on a batch. Returns (loss, number of correct predictions).

    Raises NonFiniteError before changing any weight if the loss, a gradient or the update is
    NaN or inf. `on_applied(loss, correct)` runs together with the update, safe from Ctrl-C.
    """
    keep = " The model keeps the weights from before this batch; try a smaller learning rate."
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # checked below
        logits = model.forward(xb)
        loss, dlogits = softmax_cross_entropy(logits, yb)
        if not np.isfinite(loss):
            raise NonFiniteError(f"{where}: the loss is {loss}: the model's output (logits) "
                                 f"contains NaN or inf.{keep}", layer="loss")
        model.backward(dlogits)
        bad = _nonfinite_grad(model)
        if bad is not None:
            i, layer, key = bad
            raise NonFiniteError(f"{where}: the gradient of {key} in layer {i} ({layer!r}) "
                                 f"contains NaN or inf (the first such layer in backward "
                                 f"order).{keep}", layer=i)
        new_params, state = optimizer.compute_step(model)
    for i, layer in enumerate(model.layers):
        for key in layer.params:
            if not np.all(np.isfinite(new_params[f"{i}.{key}"])):
                raise NonFiniteError(f"{where}: the update would make {key} of layer {i} "
                                     f"({layer!r}) NaN or inf: the learning rate "
                                     f"({optimizer.lr:g}) is too large.{keep}", layer=i)
    correct = int((logits.argmax(axis=1) == yb).sum())
    with interrupts_deferred():
        optimizer.apply_step(model, (new_params, state))
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
    rng: int seed or Generator driving the shuffling and the transform; progress: tqdm bar per epoch.
    checkpoint: path written after every epoch and on Ctrl-C; resume: path of a checkpoint to
    continue from (same data, batch_size, shuffle and optimiser class); `epochs` is the total.
    History keys: "loss", "acc" (per epoch, on the training batches) and, with validation data,
    "val_loss", "val_acc"; after Ctrl-C also "interrupted": True.
    """
    X, y = check_dataset(model, X, y, "fit")
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be an int >= 1, got {batch_size!r}")
    if validation_data is not None:
        X_val, y_val = check_dataset(model, *validation_data, "fit(validation_data)")
    optimizer = optimizer if optimizer is not None else SGD(0.05, momentum=0.9)
    rng = np.random.default_rng(rng)
    N, num_batches = len(X), -(-len(X) // batch_size)
    history = {"loss": [], "acc": []} | ({"val_loss": [], "val_acc": []}
                                         if validation_data is not None else {})
    # Where training stands: batches [0, batch) of `epoch` are done and applied, and
    # rng is in the state that comes next. Changed only together with a weight update.
    pos = {"epoch": 0, "batch": 0, "total_loss": 0.0, "correct": 0, "order": None,
           "rng": rng.bit_generator.state, "num_examples": N, "batch_size": int(batch_size),
           "shuffle": bool(shuffle)}
    if resume is not None:
        history, pos = load_checkpoint(resume, model, optimizer, N, int(batch_size),
                                       bool(shuffle), type(rng.bit_generator).__name__)
        rng.bit_generator.state = pos["rng"]

    def applied(loss, correct):
        b = pos["batch"]
        idx = pos["order"][b * batch_size:(b + 1) * batch_size]
        pos.update(batch=b + 1, total_loss=pos["total_loss"] + loss * len(idx),
                   correct=pos["correct"] + correct, rng=rng.bit_generator.state)

    try:
        while pos["epoch"] < epochs:
            epoch = pos["epoch"]
            if pos["order"] is None:
                pos["order"] = rng.permutation(N) if shuffle else np.arange(N)
            bar = tqdm(range(pos["batch"], num_batches), desc=f"epoch {epoch + 1}/{epochs}",
                       disable=not progress, leave=False, unit="batch")
            for b in bar:
                where = f"fit (epoch {epoch + 1}/{epochs}, batch {b + 1}/{num_batches})"
                idx = pos["order"][b * batch_size:(b + 1) * batch_size]
                xb = X[idx] if transform is None else transform(X[idx], rng)
                if not np.all(np.isfinite(xb)):
                    raise NonFiniteError(f"{where}: the transform returned NaN or inf (layer "
                                         "'input')", epoch + 1, b + 1, "input")
                try:
                    loss, right = train_step(model, xb, y[idx], optimizer, where, applied)
                except NonFiniteError as e:
                    e.epoch, e.batch = epoch + 1, b + 1
                    raise
                bar.set_postfix(loss=f"{loss:.3f}", acc=f"{right / len(idx):.3f}")
            if validation_data is not None:
                val = evaluate(model, X_val, y_val)
            with interrupts_deferred():
                history["loss"].append(pos["total_loss"] / N)
                history["acc"].append(pos["correct"] / N)
                if validation_data is not None:
                    history["val_loss"].append(val[0])
                    history["val_acc"].append(val[1])
                pos.update(epoch=epoch + 1, batch=0, total_loss=0.0, correct=0, order=None,
                           rng=rng.bit_generator.state)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer, history, pos)
    except KeyboardInterrupt:
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, history, pos)
        print(f"fit: interrupted in epoch {pos['epoch'] + 1}/{epochs} after {pos['batch']} of "
              f"{num_batches} batches; returning the history of the {len(history['loss'])} "
              "complete epochs" + (f"; resume with resume={checkpoint!r}" if checkpoint else ""),
              file=sys.stderr)
        return history | {"interrupted": True}
    return history


def evaluate(model, X, y, batch_size=256):
    """(mean cross-entropy loss, accuracy) of the model on (X, y)."""
    X, y = check_dataset(model, X, y, "evaluate")
    logits = model.logits(X, batch_size)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, float((logits.argmax(axis=1) == y).mean())


def accuracy(model, X, y, batch_size=256):
    """Fraction of examples whose predicted class equals the label."""
    return evaluate(model, X, y, batch_size)[1]
