"""Training loop: `fit`, `evaluate`, `accuracy`.

One step is forward, loss, backward, update: nothing more happens behind the scenes.
"""

import numpy as np
from tqdm.auto import tqdm

from .base import ShapeError, check_float_array
from .losses import check_labels, softmax_cross_entropy
from .optim import SGD


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
        raise ValueError(f"{where}: X contains NaN or inf (in {len(bad)} examples, first at "
                         f"index {bad[0]})")
    num_classes = model.output_shapes((1, *X.shape[1:]))[-1][1][-1]
    return X, check_labels(y, len(X), num_classes, where)


def train_step(model, xb, yb, optimizer):
    """One update on a batch. Returns (loss, number of correct predictions)."""
    logits = model.forward(xb)
    loss, dlogits = softmax_cross_entropy(logits, yb)
    model.backward(dlogits)
    optimizer.step(model)
    return loss, int((logits.argmax(axis=1) == yb).sum())


def fit(model, X, y, epochs=10, batch_size=64, optimizer=None, transform=None,
        validation_data=None, shuffle=True, seed=0, progress=True):
    """Train `model` on (X, y) with minibatches; returns the history as a dict of lists.

    X: (N, C, H, W) floats; y: (N,) int labels; optimizer: default SGD(0.05, momentum=0.9);
    transform: a function (x_batch, rng) -> x_batch applied to every fresh batch (augmentation
    plugs in here, so each epoch sees new random copies); validation_data: (X_val, y_val);
    seed: int or Generator driving the shuffling and the transform; progress: tqdm bar per epoch.
    History keys: "loss", "acc" (per epoch, on the training batches) and, with validation data,
    "val_loss", "val_acc".
    """
    X, y = check_dataset(model, X, y, "fit")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be an int >= 1, got {batch_size!r}")
    if validation_data is not None:
        X_val, y_val = check_dataset(model, *validation_data, "fit(validation_data)")
    optimizer = optimizer if optimizer is not None else SGD(0.05, momentum=0.9)
    rng = np.random.default_rng(seed)
    history = {"loss": [], "acc": []} | ({"val_loss": [], "val_acc": []}
                                         if validation_data is not None else {})
    N = len(X)
    for epoch in range(epochs):
        order = rng.permutation(N) if shuffle else np.arange(N)
        starts = range(0, N, batch_size)
        bar = tqdm(starts, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress,
                   leave=False, unit="batch")
        total_loss, correct = 0.0, 0
        for start in bar:
            idx = order[start:start + batch_size]
            xb = X[idx] if transform is None else transform(X[idx], rng)
            loss, right = train_step(model, xb, y[idx], optimizer)
            total_loss += loss * len(idx)
            correct += right
            bar.set_postfix(loss=f"{loss:.3f}", acc=f"{right / len(idx):.3f}")
        history["loss"].append(total_loss / N)
        history["acc"].append(correct / N)
        if validation_data is not None:
            val_loss, val_acc = evaluate(model, X_val, y_val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
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
