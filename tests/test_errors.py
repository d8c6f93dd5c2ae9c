"""Every bad input gets a clear error: the right type, and a message naming the layer or argument.

Each case is a line of code, run as written, so the table in docs/errors.md shows exactly what a
learner types and sees. Regenerate that page after changing a message:

    python tests/test_errors.py --write-doc
"""

import functools
import os
import pathlib
import re
import sys
import tempfile
import warnings

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import minicnn as mc
from minicnn import ShapeError

DOC = ROOT / "docs" / "errors.md"

# (what is wrong, the code, exception type, regex the message must match)
CASES = [
    # --- layers: construction
    ("stride < 1", "Conv2D(1, 4, 3, stride=0)", ValueError, r"Conv2D.*stride must be >= 1"),
    ("kernel_size < 1", "Conv2D(1, 4, kernel_size=0)", ValueError,
     r"Conv2D.*kernel_size must be >= 1"),
    ("kernel_size not an int", "Conv2D(1, 4, kernel_size=2.5)", TypeError,
     r"Conv2D.*kernel_size must be an int"),
    ("negative padding", "Conv2D(1, 4, 3, padding=-1)", ValueError,
     r"Conv2D.*padding must be >= 0"),
    ("'same' padding with stride > 1", "Conv2D(1, 4, 3, stride=2, padding='same')", ValueError,
     r"Conv2D.*padding='same' needs stride 1"),
    ("unknown padding word", "Conv2D(1, 4, 3, padding='full')", ValueError,
     r"Conv2D.*padding must be .*'same'.*'full'"),
    ("bad padding_mode", "Conv2D(1, 4, 3, padding_mode='reflect')", ValueError,
     r"Conv2D.*padding_mode.*'reflect'"),
    ("bad impl", "Conv2D(1, 4, 3, impl='gpu')", ValueError, r"Conv2D.*impl.*'gpu'"),
    ("a pair where an int is meant (was silently read as 3)", "Conv2D((3, 5), 4, 3)",
     TypeError, r"Conv2D: in_channels must be an int, got \(3, 5\)"),
    ("a pair where an int is meant (was silently read as 7)", "Linear((7, 9), 2)",
     TypeError, r"Linear: in_features must be an int, got \(7, 9\)"),
    ("kernel_size a float", "Conv2D(1, 4, 2.5)", TypeError,
     r"Conv2D: kernel_size must be an int or a pair of ints, got 2.5"),
    ("unknown padding word (p4)", "P4LiftConv2D(1, 4, 3, padding='full')", ValueError,
     r"P4LiftConv2D: padding must be one of \['same', 'valid'\], got 'full'"),
    ("zero channels", "Conv2D(0, 4, 3)", ValueError, r"Conv2D.*in_channels must be an int >= 1"),
    ("pool stride < 1", "MaxPool2D(2, stride=0)", ValueError, r"MaxPool2D.*stride must be >= 1"),
    ("bad pool impl", "MaxPool2D(2, impl='slow')", ValueError, r"MaxPool2D.*impl.*'slow'"),
    ("Linear with 0 features", "Linear(0, 10)", ValueError,
     r"Linear.*in_features must be an int >= 1"),
    ("not a layer in Sequential", "Sequential([Conv2D(1, 4, 3), 'relu'])", TypeError,
     r"Sequential.*item 1.*'relu'.*not a minicnn Layer"),
    # --- layers: forward and backward
    ("wrong ndim", "Conv2D(1, 4, 3).forward(np.zeros((8, 28, 28), np.float32))", ShapeError,
     r"Conv2D\(1, 4, kernel_size=3\).*4-d input.*\(8, 28, 28\)"),
    ("channel mismatch", "Conv2D(3, 8, 3).forward(np.zeros((8, 1, 28, 28), np.float32))",
     ShapeError, (r"Conv2D\(3, 8, kernel_size=3\) got input with 1 channel, expected "
                 r"in_channels=3: x.shape=\(8, 1, 28, 28\)")),
    ("kernel larger than the padded input",
     "Conv2D(1, 4, 5, padding=1).forward(np.zeros((2, 1, 2, 2), np.float32))", ShapeError,
     (r"Conv2D\(1, 4, kernel_size=5, padding=1\).*kernel \(5, 5\) is larger than the padded "
     r"input \(4, 4\)")),
    ("circular padding wider than the input",
     ("Conv2D(1, 4, 7, padding=3, padding_mode='circular').forward(np.zeros((1, 1, 2, 2), "
     "np.float32))"), ShapeError, r"Conv2D.*circular padding.*wraps more than once"),
    ("pool window larger than the input", ("MaxPool2D(4).forward(np.zeros((1, 2, 3, 3), "
     "np.float32))"), ShapeError, r"MaxPool2D\(4\).*kernel \(4, 4\) is larger than the input"),
    ("global pool on a 2-d input", "GlobalAvgPool2D().forward(np.zeros((2, 5), np.float32))",
     ShapeError, r"GlobalAvgPool2D\(\).*4-d input"),
    ("integer dtype where floats are needed", ("Conv2D(1, 4, 3).forward(np.zeros((2, 1, 8, 8), "
     "np.uint8))"), TypeError, r"Conv2D.*floating-point x.*uint8.*astype\(np.float32\)"),
    ("a list instead of an array", "ReLU().forward([[1.0, -2.0]])", TypeError,
     r"ReLU\(\).*numpy array, got list"),
    ("an empty batch", "Conv2D(1, 4, 3).forward(np.zeros((0, 1, 8, 8), np.float32))",
     ShapeError, r"Conv2D.*empty batch.*\(0, 1, 8, 8\)"),
    ("Linear features mismatch", "Linear(64, 10).forward(np.zeros((2, 72), np.float32))",
     ShapeError, r"Linear\(in_features=64, out_features=10\).*\(N, 64\).*\(2, 72\)"),
    ("Linear on an image batch", "Linear(64, 10).forward(np.zeros((2, 1, 8, 8), np.float32))",
     ShapeError, r"Linear.*\(2, 1, 8, 8\).*add Flatten\(\) before it"),
    ("backward before forward", "Linear(4, 2).backward(np.zeros((1, 2), np.float32))",
     RuntimeError, (r"Linear\(in_features=4, out_features=2\).*backward\(\) called before "
                   r"forward\(\)")),
    ("dout of the wrong shape", ("layer = ReLU(); layer.forward(np.ones((2, 3), np.float32)); "
     "layer.backward(np.ones((3, 2), np.float32))"), ShapeError,
     r"ReLU\(\)\.backward expected dout of shape \(2, 3\).*got \(3, 2\)"),
    ("incompatible consecutive layers",
     "Sequential([Conv2D(1, 8, 3), ReLU(), Flatten(), Linear(64, 10)]).forward(x)", ShapeError,
     r"Sequential layer 3 \(Linear\(in_features=64.*input shape \(2, 288\)"),
    # --- loss
    ("logits not 2-d", "softmax_cross_entropy(np.zeros(10, np.float32), [3])", ShapeError,
     r"softmax_cross_entropy.*logits of shape \(N, K\).*\(10,\)"),
    ("label out of range in the loss", ("softmax_cross_entropy(np.zeros((2, 10), np.float32), "
     "[3, 10])"), ValueError, r"softmax_cross_entropy: labels y must be in \[0, 9\].*10"),
    ("non-integer labels", "softmax_cross_entropy(np.zeros((2, 10), np.float32), [0.5, 1])",
     TypeError, r"softmax_cross_entropy: labels y must be integers"),
    ("NaN logits into the loss",
     "softmax_cross_entropy(np.array([[0.0, 1.0], [np.nan, 0.0]]), [0, 1])", mc.NonFiniteError,
     r"softmax_cross_entropy: the logits contain NaN or inf in 1 of 2 rows \(first: row 1\), so "
     r"the loss is nan"),
    ("fewer labels than logits", "softmax_cross_entropy(np.zeros((3, 10), np.float32), [1, 2])",
     ShapeError, r"softmax_cross_entropy.*labels y of shape \(3,\).*\(2,\)"),
    # --- fit and evaluate
    ("NaN in the input of fit", "X[3, 0, 2, 2] = np.nan; fit(model, X, y, epochs=1)",
     ValueError, r"fit: X contains NaN or inf \(in 1 example, first at index 3\)"),
    ("inf in the input of fit", "X[5] = np.inf; fit(model, X, y, epochs=1)", ValueError,
     r"fit: X contains NaN or inf.*index 5"),
    ("labels out of range in fit", "y[0] = 10; fit(model, X, y, epochs=1)", ValueError,
     r"fit: labels y must be in \[0, 9\] for 10 classes"),
    ("negative label", "y[0] = -1; evaluate(model, X, y)", ValueError,
     r"evaluate: labels y must be in \[0, 9\]"),
    ("X and y of different lengths", "fit(model, X, y[:-1], epochs=1)", ShapeError,
     r"fit: X and y have different lengths: len\(X\)=16, len\(y\)=15"),
    ("empty dataset", "fit(model, X[:0], y[:0], epochs=1)", ShapeError,
     r"fit: X must hold at least one example.*\(0, 1, 8, 8\)"),
    ("integer images in fit", "fit(model, (X * 16).astype(np.int64), y)", TypeError,
     r"fit expected a floating-point X.*int64"),
    ("image size the model cannot take", "fit(model, X[:, :, :6, :6], y)", ShapeError,
     r"Sequential layer 4 \(Linear.*\(1, 36\)"),
    ("model without a classifier head", "fit(Sequential([Conv2D(1, 4, 3)]), X, y)", ShapeError,
     r"fit: the model's output has shape \(1, 4, 6, 6\).*\(N, K\) logits"),
    ("batch_size 0", "fit(model, X, y, batch_size=0)", ValueError,
     r"fit: batch_size must be an int >= 1, got 0"),
    ("negative epochs", "fit(model, X, y, epochs=-1)", ValueError,
     r"fit: epochs must be an int >= 0, got -1"),
    ("epochs not an int", "fit(model, X, y, epochs=2.5)", TypeError,
     r"fit: epochs must be an int, got 2.5"),
    ("batch_size not an int", "fit(model, X, y, batch_size=True)", TypeError,
     r"fit: batch_size must be an int, got True"),
    ("rng neither a seed nor a Generator", "fit(model, X, y, rng='seed')", TypeError,
     r"rng must be an int seed, a numpy Generator or None, got 'seed'"),
    ("bad validation labels", "fit(model, X, y, validation_data=(X, y + 5))", ValueError,
     r"fit\(validation_data\): labels y must be in \[0, 9\]"),
    ("evaluate with batch_size 0", "evaluate(model, X, y, batch_size=0)", ValueError,
     r"Sequential.logits: batch_size must be an int >= 1"),
    ("resume from a missing checkpoint", "fit(model, X, y, resume='nothing.npz')",
     FileNotFoundError, (r"fit: resume='nothing.npz': no checkpoint at 'nothing.npz' to continue "
                        r"from.*leave resume=None.*checkpoint='nothing.npz'\) writes one")),
    ("resume not a path", "fit(model, X, y, resume=True)", TypeError,
     r"fit: resume must be the path of a checkpoint.*got True"),
    ("a transform that returns nothing", "fit(model, X, y, transform=forgot_return)", TypeError,
     (r"fit: transform forgot_return returned NoneType \(no return statement\?\), expected an "
      r"array of shape \(16, 1, 8, 8\)")),
    ("a transform that changes the shape", "fit(model, X, y, transform=crop)", ShapeError,
     (r"fit: transform crop returned an array of shape \(16, 1, 6, 6\), expected the shape of "
      r"the batch it was given, \(16, 1, 8, 8\)")),
    ("a transform that returns integers",
     "fit(model, X, y, transform=lambda xb, rng: (xb > 0.5).astype(np.uint8))", TypeError,
     r"fit: transform <lambda> returned an array of dtype uint8, expected floating point"),
    # --- your own layer, training mode, gradient checks
    ("a layer without output_shape", "fit(Sequential([Flatten(), NoShape()]), X, y)",
     NotImplementedError, (r"NoShape must implement output_shape\(self, input_shape\).*fit, "
                           r"evaluate and Sequential.summary rely on it")),
    ("a layer whose __init__ skips super().__init__()", "Sequential([Flatten(), NoInit()])",
     TypeError, r"Sequential: item 1 \(NoInit\).*must call super\(\).__init__\(\)"),
    ("check_layer on a layer that skips super().__init__()", "check_layer(NoInit(), x)",
     TypeError, r"check_layer: NoInit has no self.params.*must call super\(\).__init__\(\)"),
    ("a forward without a return statement",
     "Sequential([Flatten(), NoReturn(), Linear(64, 10)]).forward(x)", TypeError,
     (r"Sequential layer 1 \(NoReturn\(\)\): forward returned NoneType, expected a numpy "
      r"array \(a missing return statement\?\)")),
    ("a gradient of the wrong shape",
     "fit(Sequential([Flatten(), SumGrad(), Linear(64, 10)]), X, y)",
     ShapeError, (r"Sequential layer 1 \(SumGrad\(\)\): backward set grads\['w'\] to shape "
                  r"\(\), expected the shape of params\['w'\], \(64,\)")),
    ("check_layer on a gradient of the wrong shape", "check_layer(SumGrad(), x.reshape(2, 64))",
     RuntimeError, (r"check_layer: SumGrad\(\).backward gave gradients of the wrong shape: "
                    r"grads\['w'\] \(\), params\['w'\] \(64,\)")),
    ("Dropout p = 1", "Dropout(1.0)", ValueError, r"Dropout: p must be in \[0.*1\), got 1.0"),
    ("Dropout p not a number", "Dropout('half')", TypeError,
     r"Dropout: p must be a number, got 'half'"),
    ("check_layer on Dropout in training mode", "check_layer(Dropout(0.5), x)", ValueError,
     (r"check_layer: Dropout\(p=0.5\), in training mode: two forward passes.*different "
      r"outputs.*layer.eval\(\)")),
    ("check_model on a model with Dropout in training mode",
     "check_model(Sequential([Flatten(), Dropout(0.2), Linear(64, 10)]), x, y[:2])", ValueError,
     r"check_model: layer 1, Dropout\(p=0.2\), in training mode.*model.eval\(\)"),
    # --- optimisers
    ("lr <= 0", "SGD(lr=0)", ValueError, r"SGD: lr must be in \(0, inf\), got 0"),
    ("lr not a number", "Adam(lr='fast')", TypeError, r"Adam: lr must be a number.*'fast'"),
    ("momentum out of range", "SGD(0.1, momentum=1.0)", ValueError,
     r"SGD: momentum must be in \[0, 1\), got 1.0"),
    ("Adam beta out of range", "Adam(betas=(0.9, 1.5))", ValueError,
     r"Adam: betas\[1\] must be in \[0, 1\), got 1.5"),
    ("Adam betas not a pair", "Adam(betas=0.9)", TypeError,
     r"Adam: betas must be a pair \(b1, b2\), got 0.9"),
    ("negative weight decay", "SGD(0.1, weight_decay=-1e-4)", ValueError,
     r"SGD: weight_decay must be in \[0, inf\)"),
    # --- data
    ("test_fraction outside (0, 1)", "load_digits(test_fraction=1.5)", ValueError,
     r"load_digits: test_fraction must be in \(0, 1\), got 1.5"),
    ("position outside the canvas", "place_on_canvas(x, 10, (4, 0))", ValueError,
     r"place_on_canvas: a 8x8 image.*does not fit a 10x10 canvas.*rows must be in \[0, 2\]"),
    ("images without a batch axis", "place_on_canvas(np.zeros((8, 8)), 10, (0, 0))",
     ShapeError, r"place_on_canvas: images must be \(N, C, h, w\) or \(N, h, w\)"),
    ("positions not integers", "place_on_canvas(x, 10, (0.5, 1.0))", ShapeError,
     r"place_on_canvas: positions must be .*ints.*float64"),
    # --- files
    ("a weights file for another architecture", "load_weights(model, 'other.npz')", ValueError,
     r"'other.npz' does not fit this model.*0.W: model \(4, 1, 3, 3\), given \(8, 1, 3, 3\)"),
    ("a truncated weights file", "load_weights(model, 'truncated.npz')", ValueError,
     r"'truncated.npz' is not a readable minicnn .npz file \(truncated or corrupted\?\)"),
    ("a text file instead of weights", "load_weights(model, 'notes.txt')", ValueError,
     r"'notes.txt' is not an .npz file.*expected a weights file"),
    ("a missing weights file", "load_weights(model, 'missing.npz')", FileNotFoundError,
     r"no weights file at 'missing.npz'"),
    ("a weights file with NaN", "load_weights(model, 'nan.npz')", ValueError,
     r"'nan.npz' does not fit this model.*\['0.W'\] are not finite"),
    ("a training checkpoint given to load_weights", "load_weights(model, 'run.npz')", ValueError,
     (r"'run.npz' is a training checkpoint written by fit\(checkpoint=...\), not a weights "
      r"file: call fit\(model, X, y, resume='run.npz'\)")),
    ("save_weights with the arguments swapped", "save_weights('model.npz', model)", TypeError,
     (r"save_weights\(model, path\): the arguments are swapped.*call "
      r"save_weights\(model, 'model.npz'\)")),
    ("load_weights with the arguments swapped", "load_weights('model.npz', model)", TypeError,
     r"load_weights\(model, path\): the arguments are swapped"),
    ("save_weights of something that is not a model", "save_weights(X, 'x.npz')", TypeError,
     r"save_weights\(model, path\): model must be a Sequential.*got ndarray"),
    ("a path that is not a string", "save_weights(model, 3)", TypeError,
     r"save_weights\(model, path\): path must be a str or os.PathLike, got int"),
    # --- layers, round 3: dtypes that cannot train, the (N, C, H, W) layout, inner layers
    ("integer weights for Conv2D (the weights could never move)",
     "Conv2D(1, 4, 3, dtype=np.int32)", TypeError,
     r"Conv2D: dtype must be np.float32 or np.float64, got dtype\('int32'\).*dtype=np.float32"),
    ("integer weights for Linear", "Linear(64, 10, dtype=np.int32)", TypeError,
     r"Linear: dtype must be np.float32 or np.float64, got dtype\('int32'\)"),
    ("integer weights for a p4 convolution", "P4LiftConv2D(1, 4, 3, dtype=np.int64)", TypeError,
     r"P4LiftConv2D: dtype must be np.float32 or np.float64, got dtype\('int64'\)"),
    ("float16 weights (gradient steps rounded away)", "Conv2D(1, 4, 3, dtype=np.float16)",
     TypeError, r"Conv2D: dtype must be np.float32 or np.float64, got dtype\('float16'\)"),
    ("an (N, H, W, C) batch into Conv2D",
     "Conv2D(1, 8, 3).forward(np.zeros((16, 8, 8, 1), np.float32))", ShapeError,
     (r"got input with 8 channels, expected in_channels=1: x.shape=\(16, 8, 8, 1\); minicnn's "
      r"layout is \(N, C, H, W\).*\(N, H, W, C\): pass np.transpose\(x, \(0, 3, 1, 2\)\)")),
    ("an (N, H, W, C) batch into BlurPool2D",
     "BlurPool2D(3).forward(np.zeros((2, 8, 8, 3), np.float32))", ShapeError,
     r"BlurPool2D\(channels=3.*got input with 8 channels.*np.transpose\(x, \(0, 3, 1, 2\)\)"),
    ("Linear given the wrong number of features (the batch shown is the one given)",
     "Linear(64, 10).forward(np.zeros((16, 36), np.float32))", ShapeError,
     (r"Linear\(in_features=64, out_features=10\) expected input of shape \(N, 64\), got "
      r"\(16, 36\)")),
    ("MaxBlurPool2D on a 3-d input",
     "MaxBlurPool2D(4).forward(np.zeros((4, 8, 8), np.float32))", ShapeError,
     (r"^MaxBlurPool2D\(channels=4, kernel_size=3, stride=2\) expected a 4-d input "
      r"\(N, C, H, W\), got shape \(4, 8, 8\)$")),
    ("MaxBlurPool2D with the wrong channels",
     "MaxBlurPool2D(4).forward(np.zeros((2, 3, 8, 8), np.float32))", ShapeError,
     r"^MaxBlurPool2D\(channels=4, kernel_size=3, stride=2\) got input with 3 channels"),
    # --- round 3: the newer APIs (engine, measuring tools, files)
    ("a classifier's logits given to equivariance_error",
     "equivariance.equivariance_error(model.forward, x, (0, 1))", ShapeError,
     r"equivariance_error: f\(x\) has shape \(2, 10\).*feature maps \(N, C, H, W\)"
     r".*invariance_error"),
    ("a shift given as one int", "equivariance.equivariance_error(model[0].forward, x, 1)",
     TypeError, r"equivariance_error: shift must be a pair of ints \(dy, dx\).*got 1.*\(0, 1\)"),
    ("stride 0 in equivariance_error",
     "equivariance.equivariance_error(model[0].forward, x, (0, 1), stride=0)", ValueError,
     r"equivariance_error: stride must be >= 1, got 0"),
    ("a mask of the wrong shape",
     "equivariance.equivariance_error(model[0].forward, x, (0, 1), mask=np.ones((3, 3), bool))",
     ShapeError, r"equivariance_error: mask has shape \(3, 3\), expected .*\(8, 8\)"),
    ("stride 0 in grid_offsets", "positions.grid_offsets(16, 8, 0)", ValueError,
     r"grid_offsets: need .*stride >= 1.*stride 0"),
    ("a channel out of range in top_patches",
     "receptive_field.top_patches(model.layers[:3], 2, X, [7])", IndexError,
     r"top_patches: channels must be ints in 0..3 \(MaxPool2D\(2\) has 4 output channels\), "
     r"got \[7\]"),
    ("a layer index out of range in effective", "receptive_field.effective(model.layers[:3], 5, x)",
     IndexError, r"effective: k=5 is not a layer of this 3-layer network.*-3..-1"),
    ("a label out of range in sliding_probability",
     "consistency.sliding_probability(gap, x[0], 5, 12)", ValueError,
     r"sliding_probability: label must be a class in 0..2 \(the model has 3 outputs\), got 5"),
    ("labels beyond the model's classes in accuracy_map",
     "positions.accuracy_map(gap, X, y, 12, [0, 4])", ValueError,
     r"accuracy_map: labels y must be in \[0, 2\] for 3 classes, got values from 0 to 9"),
    ("the optimiser's class instead of an object", "fit(model, X, y, optimizer=Adam)", TypeError,
     r"fit: optimizer must be an optimiser object such as mc.Adam\(1e-3\).*got the class Adam "
     r"itself \(brackets forgotten\?\)"),
    ("the optimiser's name instead of an object", "fit(model, X, y, optimizer='adam')",
     TypeError, r"fit: optimizer must be an optimiser object such as mc.Adam\(1e-3\).*got 'adam'"),
    ("validation_data without labels", "fit(model, X, y, validation_data=X)", TypeError,
     r"fit: validation_data must be a pair \(X_val, y_val\), got an array of shape "
     r"\(16, 1, 8, 8\) \(the labels left out\?\)"),
    ("a checkpoint path whose folder is a file",
     "fit(model, X, y, checkpoint='notes.txt/run.npz')", NotADirectoryError,
     r"fit: checkpoint='notes.txt/run.npz' cannot be written: its folder .*notes.txt' is a file"),
    ("resume with other optimiser settings",
     "fit(model, X, y, epochs=2, optimizer=SGD(0.05), resume='run.npz')", ValueError,
     r"'run.npz' was written by a different run: optimizer SGD\(lr=0.05, momentum=0.9, "
     r"weight_decay=0.0\) there, SGD\(lr=0.05, momentum=0.0, weight_decay=0.0\) here"),
    ("a save into a folder that is a file", "save_weights(model, 'notes.txt/model.npz')",
     NotADirectoryError, r"could not write 'notes.txt/model.npz': Not a directory"),
    ("a layer's class instead of a layer", "Sequential([Flatten, Linear(64, 10)])", TypeError,
     r"Sequential: item 0 is the class Flatten itself.*Flatten\(...\)"),
    ("a transform's class instead of a transform",
     "fit(model, X, y, transform=augment.RandomShift)", TypeError,
     r"fit: transform must be a function.*the class itself: call it with its arguments"),
    ("a transform's class in Compose", "augment.Compose([augment.RandomShift])", TypeError,
     r"Compose: item 0 is the class RandomShift itself"),
    ("the Sequential class instead of a model", "fit(Sequential, X, y)", TypeError,
     r"fit: model must be a built network.*got the class Sequential"),
    ("a model cast to integers", "model.astype(np.int32)", TypeError,
     r"Sequential.astype: dtype must be a floating-point type.*got int32"),
    ("a model with integer weights in fit",
     "model[4].params['W'] = np.zeros((10, 64), np.int32); fit(model, X, y)", TypeError,
     r"fit: parameter 4.W of the model is int32, which cannot train"),
    ("validation_data of three items", "fit(model, X, y, validation_data=(X, y, y))",
     TypeError, r"fit: validation_data must be a pair \(X_val, y_val\), got a tuple of 3 items "
     r"\(array \(16, 1, 8, 8\), array \(16,\), array \(16,\)\)"),
    ("a transform that is not callable", "fit(model, X, y, transform='shift')", TypeError,
     r"fit: transform must be a function \(x_batch, rng\) -> x_batch.*got 'shift'$"),
    ("a function that builds the model instead of the model", "fit(lambda: model, X, y)",
     TypeError, r"fit: model must be a built network.*got the function <lambda> \(call it to "
     r"build the model first\)"),
    ("a checkpoint path that is a folder", "fit(model, X, y, checkpoint='.')",
     IsADirectoryError, r"fit: checkpoint='.' is a folder; give a file name inside it, e.g. "
     r"'./run.npz'"),
    ("a checkpoint in a missing folder", "fit(model, X, y, checkpoint='runs/run.npz')",
     FileNotFoundError, r"fit: checkpoint='runs/run.npz' cannot be written: its folder 'runs' "
     r"is missing; create it first"),
    ("a checkpoint path that is not a path", "fit(model, X, y, checkpoint=3)", TypeError,
     r"fit: checkpoint must be a path \(str or os.PathLike\), got 3"),
    ("load_digits with an integer dtype", "load_digits(dtype=np.uint8)", TypeError,
     r"load_digits: dtype must be a floating-point type such as np.float32, got uint8"),
    ("a batch shape where one image's shape is meant",
     "equivariance.conv_as_dense_matrix(model[0], (1, 1, 8, 8))", ShapeError,
     r"conv_as_dense_matrix: input_shape must be \(C, H, W\) of one image.*got \(1, 1, 8, 8\) "
     r"\(leave out the batch axis\)"),
    ("conv_as_dense_matrix of a Linear layer", "equivariance.conv_as_dense_matrix(model[4], "
     "(1, 8, 8))", TypeError, r"conv_as_dense_matrix: layer must be a Conv2D, got Linear"),
    ("rng of load_digits a string", "load_digits(rng='seed')", TypeError,
     r"load_digits: rng must be an int seed >= 0, a numpy Generator or None, got 'seed'"),
    ("fit with the data before the model", "fit(X, model, y)", TypeError,
     r"fit: model must be a built network.*got an array \(fit\(model, X, y\): the model "
     r"comes first\)"),
    ("a lone layer instead of a model", "fit(Linear(64, 10), X, y)", TypeError,
     r"fit: model must be a built network.*got the layer Linear\(in_features=64, "
     r"out_features=10\) \(put the layers in a Sequential\(\[...\]\)\)"),
    ("a model that is not a network", "evaluate('model.npz', X, y)", TypeError,
     r"evaluate: model must be a built network.*got str$"),
    ("save_weights of the Sequential class", "save_weights(Sequential, 'm.npz')", TypeError,
     r"save_weights\(model, path\): model must be a Sequential.*got the class Sequential"),
    ("check_layer given a layer's class", "check_layer(Conv2D, x)", TypeError,
     r"check_layer: got the class Conv2D itself; pass a layer, e.g. Conv2D\(...\)"),
]


def forgot_return(xb, rng):
    """A transform without a return statement."""
    xb = xb + rng.normal(0, 0.1, xb.shape)


def crop(xb, rng):
    """A transform that changes the image size."""
    return xb[..., 1:-1, 1:-1]


class NoShape(mc.Layer):
    """A layer of your own without output_shape."""

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


class NoReturn(NoShape):
    """A layer of your own whose forward forgets to return."""

    def forward(self, x):
        self.cache = x

    def output_shape(self, input_shape):
        return tuple(input_shape)


class SumGrad(NoReturn):
    """out = x * w (w: 64 weights); backward sums the weights' gradient into one number."""

    def __init__(self):
        super().__init__()
        self.params["w"] = np.ones(64)

    def forward(self, x):
        self.cache = x
        return x * self.params["w"]

    def backward(self, dout):
        self.grads["w"] = np.sum(dout * self.cache)             # should be summed over axis 0
        return dout * self.params["w"]


class NoInit(NoShape):
    """A layer of your own whose __init__ forgets super().__init__()."""

    def __init__(self):
        self.scale = 2.0


def make_model():
    return mc.Sequential([mc.Conv2D(1, 4, 3, padding=1, rng=0), mc.ReLU(), mc.MaxPool2D(2),
                          mc.Flatten(), mc.Linear(64, 10, rng=1)])


def namespace(folder):
    """Names the cases use: np, every minicnn export, x (2, 1, 8, 8), X (16, 1, 8, 8), y (16,),
    model, forgot_return, crop, NoShape, NoInit, NoReturn, SumGrad, and in `folder`: model.npz,
    other.npz, truncated.npz, notes.txt, nan.npz, run.npz (a training checkpoint)."""
    ns = {"np": np, **{k: getattr(mc, k) for k in mc.__all__}}
    ns.update(receptive_field=mc.measure.receptive_field, consistency=mc.measure.consistency,
              gap=mc.Sequential([mc.Conv2D(1, 4, 3, padding=1, rng=0), mc.ReLU(),
                                 mc.GlobalAvgPool2D(), mc.Linear(4, 3, rng=0)]))
    ns.update(forgot_return=forgot_return, crop=crop, NoShape=NoShape, NoInit=NoInit,
              NoReturn=NoReturn, SumGrad=SumGrad)
    rng = np.random.default_rng(0)
    X = rng.random((16, 1, 8, 8)).astype(np.float32)
    ns.update(x=X[:2].copy(), X=X, y=np.arange(16) % 10, model=make_model())
    folder = pathlib.Path(folder)
    mc.save_weights(ns["model"], folder / "model.npz")
    other = mc.Sequential([mc.Conv2D(1, 8, 3, padding=1), mc.ReLU(), mc.MaxPool2D(2),
                           mc.Flatten(), mc.Linear(128, 10)])
    mc.save_weights(other, folder / "other.npz")
    data = (folder / "model.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(data[:len(data) // 2])
    (folder / "notes.txt").write_text("not weights\n")
    bad = make_model().state_dict()
    bad["0.W"][0, 0, 0, 0] = np.nan
    mc.checkpoint.atomic_savez(folder / "nan.npz", bad)
    (folder / "run.npz").write_bytes(checkpoint_bytes())
    return ns


@functools.cache
def checkpoint_bytes():
    """A checkpoint of make_model after one epoch of fit on namespace's X, y (made once)."""
    X = np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "run.npz"
        mc.fit(make_model(), X, np.arange(16) % 10, epochs=1, progress=False, checkpoint=path)
        return path.read_bytes()


def run_case(code, folder):
    """Run one case's code in `folder`; return the exception it raised (or None)."""
    ns = namespace(folder)
    try:
        exec(code, ns)  # noqa: S102 - the cases are this file's own code lines
    except Exception as e:  # noqa: BLE001 - we want to see whatever comes out
        return e
    return None


@pytest.mark.parametrize("what, code, exc, pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_answered(what, code, exc, pattern, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    error = run_case(code, ".")
    assert error is not None, f"{what}: no error raised by {code}"
    assert type(error) is exc, f"{what}: {type(error).__name__}: {error}"
    assert re.search(pattern, str(error)), str(error)


class Scale(mc.Layer):
    """A hand-written layer that follows base.py's documented contract and nothing more."""

    def __init__(self, k):
        super().__init__()
        self.params["k"] = np.array(k, dtype=np.float64)

    def forward(self, x):
        self.cache = x
        return self.params["k"] * x

    def backward(self, dout):
        dout = self.check_dout(dout)
        self.grads["k"] = np.sum(dout * self.cache)
        return dout * self.params["k"]

    def output_shape(self, input_shape):
        return input_shape


def test_a_hand_written_layer_gets_the_same_checks():
    """check_dout works in a layer that sets self.cache itself and never calls check_input."""
    layer = Scale(2.0)
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward"):
        layer.backward(np.ones((2, 3)))
    x = np.random.default_rng(0).standard_normal((2, 3))
    layer.forward(x)
    assert np.allclose(layer.backward(np.ones((2, 3))), 2.0)
    with pytest.raises(TypeError, match="dout to be a numpy array"):
        layer.backward([[1.0]])
    assert max(mc.check_layer(layer, x, rng=0).values()) < 1e-8
    model = mc.Sequential([mc.Flatten(), Scale(0.5), mc.Linear(3, 2, rng=0, dtype=np.float64)])
    assert model.forward(x).shape == (2, 2)
    with pytest.raises(NotImplementedError, match="must implement output_shape"):
        mc.Layer().output_shape((1, 2))


def test_the_table_has_at_least_30_kinds():
    assert len({c[0] for c in CASES}) == len(CASES) >= 30


def test_a_bad_weights_file_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = namespace(".")
    before = ns["model"].state_dict()
    for name in ("other.npz", "truncated.npz", "notes.txt", "nan.npz"):
        with pytest.raises(ValueError):
            mc.load_weights(ns["model"], name)
        after = ns["model"].state_dict()
        assert all(np.array_equal(before[k], after[k]) for k in before)


def test_float32_gradient_checks_warn_and_float64_ones_do_not():
    """check_layer / check_model in float32 report 1e-3..1e-2 for a correct backward: warn."""
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    with pytest.warns(mc.gradcheck.PrecisionWarning, match=r"Conv2D computes in reduced "
                      r"precision \(W is float32, b is float32\).*layer.astype\(np.float64\)"):
        errors = mc.check_layer(mc.Conv2D(1, 2, 3, rng=0), x, rng=0)
    assert max(errors.values()) > 1e-4                  # what the warning is about
    model = mc.Sequential([mc.Conv2D(1, 2, 3, rng=0), mc.ReLU(), mc.Flatten(),
                           mc.Linear(32, 3, rng=0)])
    with pytest.warns(mc.gradcheck.PrecisionWarning, match=r"check_model: Sequential.*0.W is "
                      r"float32.*model.astype\(np.float64\).*<= 1e-6"):
        mc.check_model(model, x, np.array([0, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # float64: no warning, and it passes
        assert max(mc.check_model(model.astype(np.float64), x.astype(np.float32),
                                  np.array([0, 2])).values()) <= 1e-6


def test_the_checkpoint_message_recipe_loads_its_weights(tmp_path, monkeypatch):
    """load_weights on a checkpoint says fit(resume=..., epochs=0) loads it: it does."""
    monkeypatch.chdir(tmp_path)
    ns = namespace(".")
    with pytest.raises(ValueError, match="with epochs=0 it only loads the weights"):
        mc.load_weights(ns["model"], "run.npz")
    trained = make_model()
    mc.fit(trained, ns["X"], ns["y"], epochs=1, progress=False)        # what run.npz holds
    model = make_model()
    mc.fit(model, ns["X"], ns["y"], epochs=0, progress=False, resume="run.npz")
    for (name, p, _), (_, q, _) in zip(model.param_items(), trained.param_items()):
        np.testing.assert_array_equal(p, q, err_msg=name)


# --- round 3: what the cases above cannot show (a right result, nothing changed or lost) -----
def test_a_float64_batch_into_a_float32_model_is_cast_once_and_computes_in_float32():
    model, x = make_model(), np.random.default_rng(0).random((2, 1, 8, 8))      # x: float64
    out = model.forward(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, model.forward(x.astype(np.float32)))
    assert model.backward(np.ones_like(out)).dtype == np.float32
    assert all(g.dtype == np.float32 for _, _, g in model.param_items())
    assert model.astype(np.float64).forward(x.astype(np.float32)).dtype == np.float64


class Block(mc.Layer):
    """A layer of your own holding a Dropout, passing its mode on as Layer.train documents."""

    def __init__(self):
        super().__init__()
        self.drop = mc.Dropout(0.5, rng=0)

    def train(self, mode=True):
        self.drop.train(mode)
        return super().train(mode)

    def forward(self, x):
        return self.drop.forward(x)

    def backward(self, dout):
        return self.drop.backward(dout)

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_sequential_modes_go_through_each_layers_own_train():
    model = mc.Sequential([mc.Flatten(), Block(), mc.Linear(64, 10, rng=0)])
    X = np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32)
    assert model[1].drop.training
    first = model.predict(X)                                  # evaluation mode inside
    assert np.array_equal(first, model.predict(X)) and model[1].drop.training   # put back
    with model.mode(False):
        assert not model[1].drop.training
    assert model[1].drop.training
    model.eval()
    assert not model[1].drop.training
    np.testing.assert_array_equal(model.forward(X), model.forward(X))   # deterministic
    model.train()
    assert model[1].drop.training


def test_negative_layer_and_channel_indices_count_from_the_end():
    rf = mc.measure.receptive_field
    layers = make_model().layers[:3]
    x = np.random.default_rng(0).random((3, 1, 8, 8))
    last, centre = rf.effective(layers, 2, x)
    got, centre_got = rf.effective(layers, -1, x)
    np.testing.assert_array_equal(got, last)
    assert centre_got == centre and last.sum() > 0 and np.count_nonzero(last) > 1
    a = rf.top_patches(layers, -1, x, [-1, 0], n_top=2)
    b = rf.top_patches(layers, 2, x, [3, 0], n_top=2)
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_an_unwritable_checkpoint_fails_before_any_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = namespace(".")
    before, batches = ns["model"].state_dict(), []

    def count(xb, rng):
        batches.append(len(xb))
        return xb
    with pytest.raises(NotADirectoryError):
        mc.fit(ns["model"], ns["X"], ns["y"], transform=count, checkpoint="notes.txt/run.npz",
               progress=False)
    assert batches == [] and not os.path.exists("notes.txt/run.npz")
    after = ns["model"].state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_resume_compares_the_optimiser_settings_and_old_checkpoints_still_load(tmp_path,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = namespace(".")
    before = ns["model"].state_dict()
    for other in (mc.SGD(0.05), mc.SGD(0.01, momentum=0.9), mc.Adam(0.05),
                  mc.SGD(0.05, momentum=0.9, weight_decay=1e-4)):
        with pytest.raises(ValueError, match="written by a different run: optimizer"):
            mc.fit(ns["model"], ns["X"], ns["y"], epochs=2, optimizer=other, resume="run.npz",
                   progress=False)
    assert all(np.array_equal(before[k], v) for k, v in ns["model"].state_dict().items())
    same = mc.fit(make_model(), ns["X"], ns["y"], epochs=2, resume="run.npz", progress=False,
                  optimizer=mc.SGD(0.05, momentum=0.9))
    arrays = dict(np.load("run.npz"))                          # the format before settings
    del arrays["optimizer_hyperparameters"]
    arrays["format"] = np.array("minicnn-checkpoint-1")
    np.savez("old.npz", **arrays)
    old = mc.fit(make_model(), ns["X"], ns["y"], epochs=2, resume="old.npz", progress=False)
    assert old == same and len(same["loss"]) == 2
    mc.fit(make_model(), ns["X"], ns["y"], epochs=1, optimizer=mc.Adam(0.01),
           checkpoint="adam.npz", progress=False)
    for other in (mc.Adam(0.01, betas=(0.8, 0.999)), mc.Adam(0.01, eps=1e-6)):
        with pytest.raises(ValueError, match=r"optimizer Adam\(lr=0.01, betas=\[0.9, 0.999\], "
                                             r"eps=1e-08, weight_decay=0.0\) there"):
            mc.fit(make_model(), ns["X"], ns["y"], epochs=2, optimizer=other, resume="adam.npz",
                   progress=False)
    mc.fit(make_model(), ns["X"], ns["y"], epochs=2, optimizer=mc.Adam(0.01), resume="adam.npz",
           progress=False)


def test_saved_files_get_the_mode_of_a_new_file_and_a_failed_save_leaves_nothing(tmp_path):
    model = make_model()
    previous = os.umask(0o022)
    try:
        mc.save_weights(model, tmp_path / "a.npz")
        os.umask(0o027)
        mc.save_weights(model, tmp_path / "b.npz")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.npz").stat().st_mode & 0o777 == 0o640
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match=r"could not write '.*file/c.npz'") as info:
        mc.save_weights(model, tmp_path / "file" / "c.npz")
    assert ".minicnn-" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz", "file"]


class ForgotSlope(mc.Layer):
    """out = 2 x, whose backward forgets the 2."""

    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return dout

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_a_gradient_check_says_pass_or_fail_in_words_and_keeps_its_numbers():
    x = np.random.default_rng(0).standard_normal((2, 5))
    good = mc.check_layer(mc.ReLU(), x, rng=0)
    assert good.passed and good["x"] <= 1e-6 and max(good.values()) == good.worst[1]
    assert repr(good).startswith("GradCheck(PASS: every relative error <= 1e-06 (worst x: ")
    bad = mc.check_layer(ForgotSlope(), x, rng=0)
    assert not bad.passed and bad.worst == ("x", bad["x"]) and bad["x"] > 0.1
    assert "FAIL: x has relative error 0.5 > 0.0001: its gradient in backward is wrong" in repr(bad)
    model = mc.Sequential([mc.Flatten(), mc.Linear(5, 3, rng=0, dtype=np.float64)])
    result = mc.check_model(model, x, np.array([0, 2]))
    assert result.passed and set(result) == {"x", "1.W", "1.b"} and "PASS" in repr(result)


def test_a_loss_that_grows_a_thousandfold_past_a_guess_warns_once_and_a_normal_run_does_not(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = namespace(".")
    with pytest.warns(RuntimeWarning, match=r"fit: epoch 1's mean training loss is .*more than "
                      r"1000 times that of a uniform guess \(ln 10 = 2.3\).*smaller learning "
                      r"rate than SGD\(lr=1000.0") as caught:
        history = mc.fit(ns["model"], ns["X"], ns["y"], epochs=3, batch_size=4,
                         optimizer=mc.SGD(1e3), progress=False)
    assert history["loss"][0] > 1e3 * np.log(10) and len(caught) == 1
    assert all(np.isfinite(history["loss"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mc.fit(make_model(), ns["X"], ns["y"], epochs=3, progress=False)


class Param(mc.Layer):
    """The identity with a two-element parameter whose gradient we choose."""

    def __init__(self, g):
        super().__init__()
        self.params["W"] = np.zeros(2)
        self.grads["W"] = np.array(g, dtype=np.float64)

    def output_shape(self, input_shape):
        return tuple(input_shape)


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_a_non_finite_gradient_is_named_in_any_layer_the_last_one_included(bad):
    grads = [[1.0, 1.0]] * 3
    grads[bad] = [0.0, np.inf]
    model = mc.Sequential([Param(g) for g in grads])
    with pytest.raises(mc.NonFiniteError, match=f"gradient of W in layer {bad} ") as info:
        mc.SGD(0.1).step(model)
    assert info.value.layer == bad
    assert all(np.array_equal(layer.params["W"], [0.0, 0.0]) for layer in model)


class InPlaceMomentum(mc.optim.Optimizer):
    """A learner's optimiser whose rule changes its state arrays in place."""

    def update(self, name, p, g, state):
        v = state.setdefault(name, np.zeros_like(p))
        v += g                                                # in place
        return p - self.lr * v


def test_a_refused_step_leaves_an_in_place_optimisers_state_as_it_was():
    model = mc.Sequential([Param([1.0, 2.0])])
    opt = InPlaceMomentum(0.5)
    assert repr(opt) == "InPlaceMomentum(lr=0.5)"           # the base class's settings
    opt.step(model)
    velocity = opt.state["0.W"]
    np.testing.assert_array_equal(velocity, [1.0, 2.0])
    model[0].params["W"][:] = [-1.7e308, 0.0]               # the next update overflows
    model[0].grads["W"][:] = [1e308, 0.0]
    with np.errstate(over="ignore"), pytest.raises(mc.NonFiniteError, match="update would make"):
        opt.step(model)
    assert opt.state["0.W"] is velocity
    np.testing.assert_array_equal(velocity, [1.0, 2.0])       # not [2.0, 4.0]
    np.testing.assert_array_equal(model[0].params["W"], [-1.7e308, 0.0])


def test_rng_is_an_int_a_generator_or_none_everywhere():
    a = mc.load_digits(rng=np.random.default_rng(5))
    b = mc.load_digits(rng=np.random.default_rng(5))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[1], mc.load_digits(rng=np.random.default_rng(6))[1])
    assert np.array_equal(mc.load_digits(rng=0)[1], mc.load_digits(rng=np.int64(0))[1])
    X = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    gap = mc.Sequential([mc.Conv2D(1, 2, 3, padding=1, rng=0), mc.ReLU(), mc.GlobalAvgPool2D(),
                         mc.Linear(2, 3, rng=0)])
    measure = mc.measure
    for rng in (0, np.random.default_rng(0), None):
        assert 0 <= measure.consistency.consistency(gap, X, 10, rng=rng) <= 1
        assert measure.consistency.random_canvas_positions(4, (2, 2), rng).shape == (4, 2)
        assert measure.positions.random_positions(4, (0, 2), (0, 2), rng).shape == (4, 2)
        assert mc.augment.RandomShift(1)(X, rng).shape == X.shape
        assert len(mc.fit(gap, X, np.arange(6) % 3, epochs=1, rng=rng, progress=False)["loss"])


def markdown():
    """The docs/errors.md page, made by running every case."""
    lines = ["# Errors: what minicnn says to bad input", "",
             ("Generated by `python tests/test_errors.py --write-doc`, which runs each line below "
             "and records what it raised; `tests/test_errors.py` checks the type and the key "
             "words, and that this page is current."), "",
             ("Names in the code: `np`, every `minicnn` export, `x` (2, 1, 8, 8) and "
             "`X` (16, 1, 8, 8) float32 images, `y` (16,) labels 0-9, `model` = "
             "`Sequential([Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), "
             "Linear(64, 10)])`, the transforms `forgot_return` (no return statement) and "
             "`crop` (returns xb[..., 1:-1, 1:-1]), the layers of your own `NoShape` (forward "
             "and backward only), `NoInit` (its __init__ skips super().__init__()), `NoReturn` "
             "(its forward has no return statement) and `SumGrad` (x * w with 64 weights w, "
             "whose backward sums their gradient into one number), and "
             "files `other.npz` (weights of a wider network), `truncated.npz`, `notes.txt`, "
             "`nan.npz`, `run.npz` (a checkpoint written by fit(checkpoint=...) with the default "
             "SGD(0.05, momentum=0.9)); `gap` = `Sequential([Conv2D(1, 4, 3, padding=1), ReLU(), "
             "GlobalAvgPool2D(), Linear(4, 3)])` (any image size, 3 classes) and the modules "
             "`equivariance`, `positions`, `receptive_field`, `consistency` of minicnn.measure."),
             "",
             f"{len(CASES)} kinds of bad input.", "",
             "| # | bad input | code | exception | message |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            for k, (what, code, _, _) in enumerate(CASES, 1):
                error = run_case(code, ".")
                cells = [str(k), what, f"`{code}`", type(error).__name__, str(error)]
                lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ")
                                               for c in cells) + " |")
        finally:
            os.chdir(cwd)
    return "\n".join(lines) + "\n"


def test_docs_errors_md_is_current():
    assert DOC.exists() and DOC.read_text() == markdown(), (
        "docs/errors.md is out of date: run `python tests/test_errors.py --write-doc`")


if __name__ == "__main__":
    if "--write-doc" in sys.argv:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(markdown())
        print(f"wrote {DOC} ({len(CASES)} cases)")
    else:
        sys.stdout.write(markdown())
