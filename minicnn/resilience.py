"""What keeps a training run safe, kept off the path of the lesson (train.py, optim.py).

- NaN or inf in the input, the loss, a gradient or an update stops `fit` with a
  `NonFiniteError` naming the epoch, the batch and the layer, *before* the bad update is applied:
  the model keeps the last good weights.
- All-or-nothing updates: an optimiser step is computed first, changing nothing
  (`compute_step`), then copied in with Ctrl-C held back until the copy is done (`apply_step`
  inside `interrupts_deferred`), so a model never holds half an update.
- Ctrl-C returns the history so far with history["interrupted"] = True.
- `TrainingRun` records where training stands (epoch, batch, this epoch's order, the random
  generator's state), changed only together with a weight update, so that a checkpoint written
  after any complete step resumes bit for bit as if the run had never stopped.
"""

import contextlib
import signal
import sys
import threading

import numpy as np
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint

KEEP = " The model keeps the weights from before this batch; try a smaller learning rate."


class NonFiniteError(FloatingPointError):
    """Training produced NaN or inf. `epoch` and `batch` count from 1; `layer` is the index of
    the layer whose gradient or update went non-finite, or "loss" / "input"."""

    def __init__(self, message, epoch=None, batch=None, layer=None):
        super().__init__(message)
        self.epoch, self.batch, self.layer = epoch, batch, layer


@contextlib.contextmanager
def interrupts_deferred():
    """Hold back Ctrl-C (SIGINT) for the duration of the block; raise it when the block ends.

    Only the main thread can receive signals, so elsewhere this does nothing. Nested uses hold
    the signal until the outermost block ends.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


# --- NaN and inf, named by where they first appear ------------------------------------------
def check_finite_input(xb, where):
    """The batch the transform returned must be finite."""
    if not np.all(np.isfinite(xb)):
        raise NonFiniteError(f"{where}: the transform returned NaN or inf (layer 'input')",
                             layer="input")


def check_loss(loss, where):
    if not np.isfinite(loss):
        raise NonFiniteError(f"{where}: the loss is {loss}: the model's output (logits) "
                             f"contains NaN or inf.{KEEP}", layer="loss")


def check_grads(model, where):
    """Name the first layer, in backward order, with a non-finite gradient."""
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        for key, g in layer.grads.items():
            if not np.all(np.isfinite(g)):
                raise NonFiniteError(f"{where}: the gradient of {key} in layer {i} ({layer!r}) "
                                     f"contains NaN or inf (the first such layer in backward "
                                     f"order).{KEEP}", layer=i)


def check_update(model, update, optimizer, where):
    """Every new parameter value from `optimizer.compute_step` must be finite."""
    new_params, _ = update
    for i, layer in enumerate(model.layers):
        for key in layer.params:
            if not np.all(np.isfinite(new_params[f"{i}.{key}"])):
                raise NonFiniteError(f"{where}: the update would make {key} of layer {i} "
                                     f"({layer!r}) NaN or inf: the learning rate "
                                     f"({optimizer.lr:g}) is too large.{KEEP}", layer=i)


# --- all-or-nothing optimiser steps, and the optimiser state a checkpoint stores ------------
class TwoPhaseSteps:
    """Optimiser machinery. A subclass has `self.state` (a dict of arrays) and implements
    `_update(name, p, g, state) -> new p`, which may set entries of `state` (a private copy)."""

    def compute_step(self, model):
        """({name: new parameter value}, new state) for one step; changes nothing."""
        state = {k: v.copy() for k, v in self.state.items()}
        new_params = {}
        for name, p, g in model.param_items():
            if g is None:
                raise RuntimeError(f"{type(self).__name__}.step: parameter {name} has no "
                                   "gradient; call model.backward(...) first")
            new_params[name] = self._update(name, p, g, state)
        return new_params, state

    def apply_step(self, model, update):
        """Copy the values from `compute_step` into the parameters and keep the new state."""
        new_params, state = update
        for name, p, _ in model.param_items():
            p[...] = new_params[name]
        self.state = state

    def state_dict(self):
        """{key: array} of the optimiser state (e.g. for a checkpoint)."""
        return {k: np.array(v) for k, v in self.state.items()}

    def check_state_dict(self, state, model):
        """Raise ValueError unless `state` could be this optimiser's state for `model`."""
        shapes = {name: p.shape for name, p, _ in model.param_items()}
        owner = type(self).__name__
        for key, value in state.items():
            expected = self._state_shape(key, shapes)
            if expected is None:
                raise ValueError(f"{owner}: state entry {key!r} does not belong to this "
                                 f"optimiser and model (parameters: {sorted(shapes)})")
            if np.shape(value) != expected:
                raise ValueError(f"{owner}: state entry {key!r} has shape {np.shape(value)}, "
                                 f"expected {expected}")

    def _state_shape(self, key, shapes):
        """Shape of state entry `key` given {parameter name: shape}; None if it is foreign."""
        return shapes.get(key)

    def load_state_dict(self, state, model=None):
        """Replace the state; with `model`, check it first (nothing changes if it does not fit)."""
        if model is not None:
            self.check_state_dict(state, model)
        self.state = {k: np.array(v) for k, v in state.items()}


# --- where a run of fit stands: Ctrl-C, checkpoints and bit-identical resume ----------------
class TrainingRun:
    """The bookkeeping of one call of `fit`: history, position, progress bar, checkpoints.

    `pos` says where training stands: batches [0, batch) of `epoch` are done and applied, and
    the random generator is in the state that comes next. It changes only together with a
    weight update (`applied` runs inside train_step's Ctrl-C-safe block), so a checkpoint of it
    continues bit for bit. resume: a checkpoint path; the run then starts where that one stood.
    """

    def __init__(self, model, optimizer, rng, num_examples, batch_size, shuffle, epochs,
                 validation=False, progress=True, checkpoint=None, resume=None):
        self.model, self.optimizer, self.rng, self.epochs = model, optimizer, rng, epochs
        self.batch_size, self.progress, self.checkpoint = batch_size, progress, checkpoint
        self.num_batches = -(-num_examples // batch_size)
        self.history = {"loss": [], "acc": []} | ({"val_loss": [], "val_acc": []}
                                                  if validation else {})
        self.pos = {"epoch": 0, "batch": 0, "total_loss": 0.0, "correct": 0, "order": None,
                    "rng": rng.bit_generator.state, "num_examples": num_examples,
                    "batch_size": int(batch_size), "shuffle": bool(shuffle)}
        self.bar, self.interrupted = None, False
        if resume is not None:
            self.history, self.pos = load_checkpoint(
                resume, model, optimizer, num_examples, int(batch_size), bool(shuffle),
                type(rng.bit_generator).__name__)
            rng.bit_generator.state = self.pos["rng"]

    @property
    def epoch(self):
        """Number of complete epochs."""
        return self.pos["epoch"]

    @property
    def order(self):
        """This epoch's order of the examples, or None before the epoch starts."""
        return self.pos["order"]

    @order.setter
    def order(self, order):
        self.pos["order"] = order

    @property
    def where(self):
        """The batch being trained, for error messages."""
        return (f"fit (epoch {self.pos['epoch'] + 1}/{self.epochs}, batch "
                f"{self.pos['batch'] + 1}/{self.num_batches})")

    def batches_left(self):
        """Indices of this epoch's batches still to do, with a progress bar."""
        self.bar = tqdm(range(self.pos["batch"], self.num_batches), leave=False, unit="batch",
                        desc=f"epoch {self.epoch + 1}/{self.epochs}", disable=not self.progress)
        return self.bar

    def show(self, loss, acc):
        self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.3f}")

    def applied(self, loss, correct):
        """Count a batch as done; called together with its weight update."""
        pos, b = self.pos, self.pos["batch"]
        idx = pos["order"][b * self.batch_size:(b + 1) * self.batch_size]
        pos.update(batch=b + 1, total_loss=pos["total_loss"] + loss * len(idx),
                   correct=pos["correct"] + correct, rng=self.rng.bit_generator.state)

    def end_epoch(self, val=None):
        """Close the epoch: history (val: (loss, accuracy) or None), position, checkpoint."""
        pos, n = self.pos, self.pos["num_examples"]
        with interrupts_deferred():
            self.history["loss"].append(pos["total_loss"] / n)
            self.history["acc"].append(pos["correct"] / n)
            if val is not None:
                self.history["val_loss"].append(val[0])
                self.history["val_acc"].append(val[1])
            pos.update(epoch=pos["epoch"] + 1, batch=0, total_loss=0.0, correct=0, order=None,
                       rng=self.rng.bit_generator.state)
        self.save()

    def save(self):
        if self.checkpoint is not None:
            save_checkpoint(self.checkpoint, self.model, self.optimizer, self.history, self.pos)

    @contextlib.contextmanager
    def guard(self):
        """Stamp a NonFiniteError with its epoch and batch; on Ctrl-C, save and stop quietly."""
        try:
            yield
        except NonFiniteError as e:
            e.epoch, e.batch = self.pos["epoch"] + 1, self.pos["batch"] + 1
            raise
        except KeyboardInterrupt:
            self.save()
            self.interrupted = True
            print(f"fit: interrupted in epoch {self.epoch + 1}/{self.epochs} after "
                  f"{self.pos['batch']} of {self.num_batches} batches; returning the history of "
                  f"the {len(self.history['loss'])} complete epochs"
                  + (f"; resume with resume={self.checkpoint!r}" if self.checkpoint else ""),
                  file=sys.stderr)

    def result(self):
        """The history; after Ctrl-C with "interrupted": True."""
        return self.history | {"interrupted": True} if self.interrupted else self.history
