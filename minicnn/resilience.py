"""What keeps a run of `fit` safe, wrapped around the training step (train.py, optim.py).

- NaN or inf in a batch, the loss, a gradient or an update stops `fit` with a `NonFiniteError`
  naming the epoch, the batch and the layer. The loss refuses non-finite logits and the
  optimiser refuses non-finite gradients and updates before anything is assigned, so the model
  keeps the last good weights.
- Ctrl-C waits until the step in progress and its bookkeeping are done (`interrupts_deferred`),
  then `fit` returns the history so far with history["interrupted"] = True.
- `TrainingRun` records where training stands (epoch, batch, this epoch's order, the random
  generator's state), changed only together with a weight update, so that a checkpoint written
  after any complete step resumes bit for bit as if the run had never stopped.
"""

import contextlib
import signal
import sys
import threading
import warnings

import numpy as np
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint

KEEP = " The model keeps the weights from before this batch; try a smaller learning rate."
# A loss this many times that of a uniform guess (ln K) means the logits are wildly wrong: the
# steps are far too large (or the inputs unscaled). It stays finite, so fit warns instead.
DIVERGED = 1e3


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


def check_finite_input(xb, where):
    """The batch the transform returned must be finite."""
    if not np.all(np.isfinite(xb)):
        raise NonFiniteError(f"{where}: the transform returned NaN or inf (layer 'input')",
                             layer="input")


class TrainingRun:
    """The bookkeeping of one call of `fit`: history, position, progress bar, checkpoints.

    `pos` says where training stands: batches [0, batch) of `epoch` are done and applied, and
    the random generator is in the state that comes next. It changes only together with a
    weight update (`step` holds Ctrl-C back until `applied` has run), so a checkpoint of it
    continues bit for bit. resume: a checkpoint path; the run then starts where that one stood.
    """

    def __init__(self, model, optimizer, rng, data_shape, batch_size, shuffle, epochs,
                 validation, progress, checkpoint, resume):
        """data_shape: (number of examples, number of classes)."""
        self.model, self.optimizer, self.rng, self.epochs = model, optimizer, rng, epochs
        self.batch_size, self.progress, self.checkpoint = batch_size, progress, checkpoint
        num_examples, self.num_classes = data_shape
        self.num_batches = -(-num_examples // batch_size)
        self.history = {"loss": [], "acc": []} | ({"val_loss": [], "val_acc": []}
                                                  if validation else {})
        self.pos = {"epoch": 0, "batch": 0, "total_loss": 0.0, "correct": 0, "order": None,
                    "rng": rng.bit_generator.state, "num_examples": num_examples,
                    "batch_size": int(batch_size), "shuffle": bool(shuffle)}
        self.bar, self.interrupted, self.warned = None, False, False
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
    def where(self):
        """The batch being trained, for error messages."""
        return (f"fit (epoch {self.pos['epoch'] + 1}/{self.epochs}, batch "
                f"{self.pos['batch'] + 1}/{self.num_batches})")

    def batches(self, shuffle):
        """This epoch's batches of example indices (the rest of them on resume), with a bar."""
        pos = self.pos
        if pos["order"] is None:                                       # a fresh epoch
            n = pos["num_examples"]
            pos["order"] = self.rng.permutation(n) if shuffle else np.arange(n)
        self.bar = tqdm(range(pos["batch"], self.num_batches), leave=False, unit="batch",
                        desc=f"epoch {self.epoch + 1}/{self.epochs}", disable=not self.progress)
        for b in self.bar:
            yield pos["order"][b * self.batch_size:(b + 1) * self.batch_size]

    @contextlib.contextmanager
    def step(self, xb):
        """Around one training step on batch xb: numpy's overflow warnings off (NaN and inf are
        refused instead, and named here with the epoch and batch); Ctrl-C waits for the end."""
        check_finite_input(xb, self.where)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), \
                    interrupts_deferred():
                yield
        except NonFiniteError as e:
            raise NonFiniteError(f"{self.where}: {e}{KEEP}", layer=e.layer) from None

    def applied(self, loss, correct):
        """Count a batch as done; called inside `step`, after its weight update."""
        pos, b = self.pos, self.pos["batch"]
        idx = pos["order"][b * self.batch_size:(b + 1) * self.batch_size]
        pos.update(batch=b + 1, total_loss=pos["total_loss"] + loss * len(idx),
                   correct=pos["correct"] + correct, rng=self.rng.bit_generator.state)
        self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{correct / len(idx):.3f}")

    def end_epoch(self, val=None):
        """Close the epoch: history (val: (loss, accuracy) or None), position, checkpoint."""
        pos, n = self.pos, self.pos["num_examples"]
        with interrupts_deferred():
            self.history["loss"].append(pos["total_loss"] / n)
            self.history["acc"].append(pos["correct"] / n)
            if val is not None:
                self.history["val_loss"].append(val[0])
                self.history["val_acc"].append(val[1])
            # pos["rng"] stays as the last batch left it: nothing has drawn from rng since
            pos.update(epoch=pos["epoch"] + 1, batch=0, total_loss=0.0, correct=0, order=None)
        self.save()
        self.warn_if_diverging()

    def warn_if_diverging(self):
        """Warn once when the epoch's mean loss is DIVERGED times that of a uniform guess."""
        loss, chance = self.history["loss"][-1], np.log(self.num_classes)
        if self.warned or not loss > DIVERGED * chance:
            return
        self.warned = True
        warnings.warn(f"fit: epoch {self.epoch}'s mean training loss is {loss:.3g}, more than "
                      f"{DIVERGED:g} times that of a uniform guess (ln {self.num_classes} = "
                      f"{chance:.3g}): the steps are far too large and the run is diverging "
                      f"(try a smaller learning rate than {self.optimizer!r}), or the inputs are "
                      "not scaled to about [0, 1]",
                      RuntimeWarning, stacklevel=4)

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
        if self.interrupted:
            return {**self.history, "interrupted": True}
        return self.history
