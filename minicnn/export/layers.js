// The forward pass of minicnn's layers in plain JavaScript: the same loops as the naive Python
// versions (conv2d_naive, maxpool2d_naive, polyphase_downsample_naive), one image at a time.
//
// A tensor is one image's feature maps, channels first: {C, H, W, data}, with pixel (c, i, j) at
// data[(c * H + i) * W + j], exactly NumPy's row-major order of an array (C, H, W). A vector
// (after Flatten or a global pool) is a tensor with H = W = 1. Weights keep the Python layouts:
// conv W[f, c, p, q] at ((f * C + c) * KH + p) * KW + q, linear W[m, d] at m * D + d.
"use strict";

function tensor(C, H, W) {
  return {C: C, H: H, W: W, data: new Float64Array(C * H * W)};
}

// Python's % for negative numbers: mod(-1, 8) = 7, so circular padding wraps around.
function mod(a, n) {
  return ((a % n) + n) % n;
}

// out[f, i, j] = b[f] + sum over c, p, q of W[f, c, p, q] * x[c, i*sh + p - top, j*sw + q - left]
// The kernel W[f] has no (i, j) index: the same weights are used at every position.
// Outside the image the input is 0 (padding "zeros") or wraps around (padding "circular").
function conv2d(x, L) {
  const [F, C, KH, KW] = L.params.W.shape;
  const [sh, sw] = L.stride;
  const [top, bottom, left, right] = L.pads;
  const circular = L.mode === "circular";
  const Ho = Math.floor((x.H + top + bottom - KH) / sh) + 1;
  const Wo = Math.floor((x.W + left + right - KW) / sw) + 1;
  const out = tensor(F, Ho, Wo);
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let sum = L.b[f];
        for (let c = 0; c < C; c++) {
          for (let p = 0; p < KH; p++) {
            let row = i * sh + p - top;                    // the input row under kernel row p
            if (row < 0 || row >= x.H) {
              if (!circular) continue;                     // a zero of the padding frame
              row = mod(row, x.H);                         // wrapped around
            }
            for (let q = 0; q < KW; q++) {
              let col = j * sw + q - left;
              if (col < 0 || col >= x.W) {
                if (!circular) continue;
                col = mod(col, x.W);
              }
              sum += L.W[((f * C + c) * KH + p) * KW + q] * x.data[(c * x.H + row) * x.W + col];
            }
          }
        }
        out.data[(f * Ho + i) * Wo + j] = sum;
      }
    }
  }
  return out;
}

function relu(x) {
  const out = tensor(x.C, x.H, x.W);
  for (let k = 0; k < x.data.length; k++) {
    out.data[k] = Math.max(0, x.data[k]);
  }
  return out;
}

// out[c, i, j] = max over the window of x starting at (i*sh, j*sw); with wrap = true the window
// continues on the other side of the map (CircularMaxPool2D), so the map keeps its size at
// stride 1 and a shifted input gives a shifted output.
function maxpool2d(x, L, wrap) {
  const [KH, KW] = L.kernel;
  const [sh, sw] = L.stride;
  const Ho = wrap ? Math.ceil(x.H / sh) : Math.floor((x.H - KH) / sh) + 1;
  const Wo = wrap ? Math.ceil(x.W / sw) : Math.floor((x.W - KW) / sw) + 1;
  const out = tensor(x.C, Ho, Wo);
  for (let c = 0; c < x.C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let best = -Infinity;
        for (let p = 0; p < KH; p++) {
          for (let q = 0; q < KW; q++) {
            const row = (i * sh + p) % x.H;                // only wraps when wrap is true
            const col = (j * sw + q) % x.W;
            best = Math.max(best, x.data[(c * x.H + row) * x.W + col]);
          }
        }
        out.data[(c * Ho + i) * Wo + j] = best;
      }
    }
  }
  return out;
}

// out[c, i, j] = the mean of the window of x starting at (i*sh, j*sw) (AvgPool2D).
function avgpool2d(x, L) {
  const [KH, KW] = L.kernel;
  const [sh, sw] = L.stride;
  const Ho = Math.floor((x.H - KH) / sh) + 1, Wo = Math.floor((x.W - KW) / sw) + 1;
  const out = tensor(x.C, Ho, Wo);
  for (let c = 0; c < x.C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let sum = 0;
        for (let p = 0; p < KH; p++) {
          for (let q = 0; q < KW; q++) {
            sum += x.data[(c * x.H + i * sh + p) * x.W + j * sw + q];
          }
        }
        out.data[(c * Ho + i) * Wo + j] = sum / (KH * KW);
      }
    }
  }
  return out;
}

// Keep every s-th pixel, starting at the phase (pi, pj) whose pixels have the largest sum of
// squares over all channels (the first such phase in row-major order on ties). A shift of the
// input only relabels the phases, so the same pixels survive wherever the digit is.
function polyphaseDownsample2d(x, L) {
  const s = L.stride;
  const Ho = x.H / s, Wo = x.W / s;
  let best = -1, bi = 0, bj = 0;
  for (let pi = 0; pi < s; pi++) {
    for (let pj = 0; pj < s; pj++) {
      let norm2 = 0;
      for (let c = 0; c < x.C; c++) {
        for (let i = pi; i < x.H; i += s) {
          for (let j = pj; j < x.W; j += s) {
            const v = x.data[(c * x.H + i) * x.W + j];
            norm2 += v * v;
          }
        }
      }
      if (norm2 > best) {
        best = norm2; bi = pi; bj = pj;
      }
    }
  }
  const out = tensor(x.C, Ho, Wo);
  for (let c = 0; c < x.C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        out.data[(c * Ho + i) * Wo + j] = x.data[(c * x.H + bi + i * s) * x.W + bj + j * s];
      }
    }
  }
  return out;
}

// One number per channel: the mean (average) or the maximum over all positions. Where the
// feature fired is gone.
function globalPool2d(x, average) {
  const out = tensor(x.C, 1, 1);
  const n = x.H * x.W;
  for (let c = 0; c < x.C; c++) {
    let acc = average ? 0 : -Infinity;
    for (let k = 0; k < n; k++) {
      const v = x.data[c * n + k];
      acc = average ? acc + v : Math.max(acc, v);
    }
    out.data[c] = average ? acc / n : acc;
  }
  return out;
}

// Flatten keeps the numbers in their order (c, i, j): every pixel of every map becomes its own
// feature, and the next Linear layer gives each its own weight.
function flatten(x) {
  return {C: x.C * x.H * x.W, H: 1, W: 1, data: x.data};
}

// out[m] = b[m] + sum over d of W[m, d] * x[d]
function linear(x, L) {
  const [M, D] = L.params.W.shape;
  const out = tensor(M, 1, 1);
  for (let m = 0; m < M; m++) {
    let sum = L.b[m];
    for (let d = 0; d < D; d++) {
      sum += L.W[m * D + d] * x.data[d];
    }
    out.data[m] = sum;
  }
  return out;
}

const LAYERS = {
  Conv2D: conv2d,
  ReLU: relu,
  MaxPool2D: (x, L) => maxpool2d(x, L, false),
  CircularMaxPool2D: (x, L) => maxpool2d(x, L, true),
  AvgPool2D: avgpool2d,
  PolyphaseDownsample2D: polyphaseDownsample2d,
  GlobalAvgPool2D: (x) => globalPool2d(x, true),
  GlobalMaxPool2D: (x) => globalPool2d(x, false),
  Flatten: flatten,
  Linear: linear,
};

// Run every layer in order; returns the output of each (the last one holds the logits).
function forward(net, x) {
  const outputs = [];
  for (const L of net.layers) {
    x = LAYERS[L.type](x, L);
    outputs.push(x);
  }
  return outputs;
}

function softmax(logits) {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

// Base64 of little-endian float32 numbers (as html.py writes them) -> Float32Array.
function decodeFloats(b64) {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

// Give every layer spec its parameters as arrays: L.W, L.b views into the network's weights.
function loadNetwork(net) {
  const weights = decodeFloats(net.weights);
  for (const L of net.layers) {
    for (const [name, p] of Object.entries(L.params)) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      L[name] = weights.subarray(p.offset, p.offset + size);
    }
  }
  return net;
}
