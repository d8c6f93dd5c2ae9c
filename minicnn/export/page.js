// The page: a digit on the networks' canvas, every network's answer, the last convolution's
// response, and the self-test. The forward pass itself is in layers.js.
"use strict";

window.addEventListener("error", (e) => {
  document.getElementById("errors").textContent += "JavaScript error: " + e.message + " ";
});

const DATA = JSON.parse(document.getElementById("data").textContent);
const S = DATA.canvas;                        // the canvas is S x S pixels
const [h, w] = DATA.image;                    // a digit is h x w pixels
const SCALE = 320 / S;                        // screen pixels per canvas pixel
const NETS = DATA.networks.map(loadNetwork);
const DIGITS = decodeFloats(DATA.digits);     // (N, h, w)
const HOME = Math.floor(DATA.corner / 2);     // where a new digit appears: mid training corner

// The digit: an h x w picture whose top-left pixel sits at (row, col) of the canvas.
const state = {picture: new Float32Array(h * w), row: HOME, col: HOME, label: null, index: 0};
let drag = null;
let padEmpty = true;

// ---- colours ---------------------------------------------------------------------------------
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function colour(v) {                          // v in [0, 1] -> "rgb(...)" of the viridis scale
  const t = Math.min(1, Math.max(0, v)) * (VIRIDIS.length - 1);
  const k = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - k;
  const rgb = VIRIDIS[k].map((a, n) => Math.round(a + f * (VIRIDIS[k + 1][n] - a)));
  return "rgb(" + rgb.join(",") + ")";
}

function colourBar(label, top) {              // a legend canvas: 0 .. top on the viridis scale
  const bar = document.createElement("canvas");
  const W = 180;
  bar.width = W; bar.height = 34;
  const ctx = bar.getContext("2d");
  for (let x = 0; x < W; x++) {
    ctx.fillStyle = colour(x / (W - 1));
    ctx.fillRect(x, 0, 1, 12);
  }
  ctx.fillStyle = "#222"; ctx.font = "11px sans-serif";
  ctx.fillText("0", 0, 24);
  ctx.textAlign = "right"; ctx.fillText(top, W, 24);
  ctx.textAlign = "center"; ctx.fillText(label, W / 2, 33);
  return bar;
}

// ---- what the networks see ---------------------------------------------------------------------
function inkBox(picture) {                    // rows and columns of the picture that hold ink
  let r0 = h, r1 = -1, c0 = w, c1 = -1;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      if (picture[i * w + j] > 0) {
        r0 = Math.min(r0, i); r1 = Math.max(r1, i); c0 = Math.min(c0, j); c1 = Math.max(c1, j);
      }
    }
  }
  return r1 < 0 ? null : {r0: r0, r1: r1, c0: c0, c1: c1};
}

// Where the networks see the digit: where it is, or, with auto-centre, moved so that its ink
// is centred on the middle of the training positions (as a draw-a-digit page centres a drawing
// on the middle of what its network was trained on).
function seenPosition() {
  const box = inkBox(state.picture);
  if (!document.getElementById("autocentre").checked || box === null) {
    return [state.row, state.col];
  }
  const middle = (DATA.corner + h) / 2;       // centre of the training frames, in pixels
  const row = Math.round(middle - (box.r0 + box.r1 + 1) / 2);
  const col = Math.round(middle - (box.c0 + box.c1 + 1) / 2);
  return [Math.max(-box.r0, Math.min(S - 1 - box.r1, row)),
          Math.max(-box.c0, Math.min(S - 1 - box.c1, col))];
}

function canvasAt(row, col) {                 // the network input (1, S, S), digit at (row, col)
  const x = tensor(1, S, S);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const r = row + i, c = col + j;
      if (r >= 0 && r < S && c >= 0 && c < S) {
        x.data[r * S + c] = state.picture[i * w + j];
      }
    }
  }
  return x;
}

// ---- drawing ---------------------------------------------------------------------------------
function drawInput(seen) {
  const ctx = document.getElementById("input").getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 320, 320);
  const x = canvasAt(state.row, state.col);
  for (let k = 0; k < S * S; k++) {
    if (x.data[k] > 0) {
      const g = Math.round(255 * (1 - Math.min(1, x.data[k])));
      ctx.fillStyle = "rgb(" + g + "," + g + "," + g + ")";
      ctx.fillRect((k % S) * SCALE, Math.floor(k / S) * SCALE, SCALE, SCALE);
    }
  }
  ctx.setLineDash([6, 4]); ctx.lineWidth = 2; ctx.strokeStyle = "#e67e22";
  ctx.strokeRect(1, 1, (DATA.corner + w) * SCALE - 1, (DATA.corner + h) * SCALE - 1);
  if (seen[0] !== state.row || seen[1] !== state.col) {         // auto-centre moved it
    ctx.setLineDash([2, 3]); ctx.strokeStyle = "#2471a3";
    ctx.strokeRect(seen[1] * SCALE, seen[0] * SCALE, w * SCALE, h * SCALE);
  }
  ctx.setLineDash([]);
  const what = state.label === null ? "your drawing" : "test digit " + state.label;
  let text = what + ", top-left corner at row " + state.row + ", col " + state.col + ".";
  if (seen[0] !== state.row || seen[1] !== state.col) {
    text += " Auto-centre: the networks see it at row " + seen[0] + ", col " + seen[1] +
            " (blue dotted box).";
  }
  document.getElementById("where").textContent = text;
}

function drawBars(ctx, probs, answer) {
  const W = ctx.canvas.width, H = ctx.canvas.height, left = 34, bottom = 18, top = 6;
  const K = probs.length, step = (W - left - 4) / K, height = H - bottom - top;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#222"; ctx.strokeStyle = "#999"; ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  for (const v of [0, 0.5, 1]) {              // the y axis: probability, the same in every row
    const y = top + height * (1 - v);
    ctx.fillText(v.toFixed(1), left - 4, y + 4);
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(W, y); ctx.stroke();
  }
  ctx.textAlign = "center";
  for (let k = 0; k < K; k++) {
    ctx.fillStyle = k === state.label ? "#2e8b57" : k === answer ? "#c0392b" : "#aaa";
    if (k === answer && (state.label === null || k === state.label)) {
      ctx.fillStyle = state.label === null ? "#2471a3" : "#2e8b57";
    }
    const x = left + k * step;
    ctx.fillRect(x + 3, top + height * (1 - probs[k]), step - 6, height * probs[k]);
    ctx.fillStyle = "#222";
    ctx.fillText(String(k), x + step / 2, H - 4);
  }
}

function drawMap(ctx, net, seen) {            // the accuracy map, the training box, the dot
  const G = DATA.grid.length, size = ctx.canvas.width / G;
  const grid = DATA.grid;
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      ctx.fillStyle = colour(net.map[i][j]);
      ctx.fillRect(j * size, i * size, size + 0.5, size + 0.5);
    }
  }
  const at = (p) => {                         // a canvas position -> map pixels (cell centres)
    const step = grid.length > 1 ? grid[1] - grid[0] : 1;
    return ((p - grid[0]) / step + 0.5) * size;
  };
  ctx.setLineDash([4, 3]); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
  ctx.strokeRect(at(0) - size / 2, at(0) - size / 2, at(DATA.corner) - at(0) + size,
                 at(DATA.corner) - at(0) + size);
  ctx.setLineDash([]);
  ctx.beginPath(); ctx.arc(at(seen[1]), at(seen[0]), 5, 0, 2 * Math.PI);
  ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke();
}

function drawResponse(outputs, net) {
  const box = document.getElementById("fmaps");
  const r = net.response;
  if (r === null) {
    box.textContent = "(this network has no convolution)";
    return;
  }
  const y = outputs[r.layer];
  const cells = box.querySelectorAll("canvas.fmap");
  r.channels.forEach((c, n) => {
    const ctx = cells[n].getContext("2d"), cell = 90 / Math.max(y.H, y.W);
    ctx.clearRect(0, 0, 90, 90);
    for (let i = 0; i < y.H; i++) {
      for (let j = 0; j < y.W; j++) {
        ctx.fillStyle = colour(y.data[(c * y.H + i) * y.W + j] / r.vmax);
        ctx.fillRect(j * cell, i * cell, cell + 0.5, cell + 0.5);
      }
    }
  });
}

function setUpResponse() {                    // the channel canvases and legend of one network
  const net = NETS[document.getElementById("fmap-net").selectedIndex];
  const box = document.getElementById("fmaps");
  box.textContent = "";
  document.getElementById("fmap-legend").textContent = "";
  if (net.response === null) return;
  const shape = net.shapes[net.response.layer];
  for (const c of net.response.channels) {
    const cell = document.createElement("div");
    cell.className = "small";
    cell.textContent = "channel " + c;
    const cv = document.createElement("canvas");
    cv.className = "fmap"; cv.width = 90; cv.height = 90;
    cell.appendChild(cv);
    box.appendChild(cell);
  }
  const legend = document.getElementById("fmap-legend");
  legend.textContent = "";
  legend.appendChild(colourBar("response of the chosen network", net.response.vmax.toFixed(2)));
  const layer = net.layers[net.response.layer].type === "ReLU" ? "its ReLU" : "its output";
  document.getElementById("fmap-caption").textContent =
    "The " + net.response.channels.length + " channels of network " + net.key + "'s last " +
    "convolution (" + layer + ", " + shape[1] + "x" + shape[2] + " per channel) most active " +
    "on test digits in the training corner; one colour scale for all four, fixed, so moving " +
    "the digit moves the response rather than rescaling it.";
}

// ---- one redraw: every network on what the canvas shows now ----------------------------------
function redraw() {
  const seen = seenPosition();
  const x = canvasAt(seen[0], seen[1]);
  drawInput(seen);
  const chosen = document.getElementById("fmap-net").selectedIndex;
  NETS.forEach((net, n) => {
    const outputs = forward(net, x);
    const probs = softmax(Array.from(outputs[outputs.length - 1].data));
    const answer = probs.indexOf(Math.max(...probs));
    drawBars(document.getElementById("bars-" + net.key).getContext("2d"), probs, answer);
    if (net.map !== null) drawMap(document.getElementById("map-" + net.key).getContext("2d"),
                                  net, seen);
    const verdict = document.getElementById("answer-" + net.key);
    verdict.dataset.class = answer;
    verdict.textContent = "answer " + answer + " (p = " + probs[answer].toFixed(2) + ")";
    verdict.className = state.label !== null && answer !== state.label ? "verdict wrong" : "verdict";
    const truth = document.getElementById("ptrue-" + net.key);
    truth.dataset.value = state.label === null ? "" : probs[state.label];
    truth.textContent = state.label === null ? "" :
      "p(true class " + state.label + ") = " + probs[state.label].toFixed(3);
    if (n === chosen) drawResponse(outputs, net);
  });
}

// ---- the networks' rows ------------------------------------------------------------------------
function buildRows() {
  document.getElementById("map-legend").appendChild(colourBar("test accuracy", "100%"));
  for (const net of NETS) {
    const card = document.createElement("div");
    card.className = "card";
    const line = (tag, id, cls, text) => {
      const e = document.createElement(tag);
      e.id = id; e.className = cls; e.textContent = text;
      card.appendChild(e);
      return e;
    };
    line("b", "", "", net.key + ") " + net.title + ": ");
    line("span", "answer-" + net.key, "verdict", "");
    const row = line("div", "", "row", "");
    const bars = document.createElement("canvas");
    bars.id = "bars-" + net.key; bars.width = 260; bars.height = 100;
    row.appendChild(bars);
    if (net.map !== null) {
      const map = document.createElement("canvas");
      map.id = "map-" + net.key; map.width = 100; map.height = 100;
      row.appendChild(map);
    }
    line("div", "ptrue-" + net.key, "small", "");
    document.getElementById("nets").appendChild(card);
    const option = document.createElement("option");
    option.textContent = net.key + ") " + net.title;
    document.getElementById("fmap-net").appendChild(option);
  }
}

// ---- the controls ------------------------------------------------------------------------------
function showDigit(index) {                   // test digit `index` replaces the picture
  state.index = index;
  state.picture = DIGITS.slice(index * h * w, (index + 1) * h * w);
  state.label = DATA.labels[index];
  redraw();
}

function setUpDigitButtons() {
  const box = document.getElementById("digit-buttons");
  const classes = [...new Set(DATA.labels)];
  for (const k of classes) {
    const b = document.createElement("button");
    b.textContent = k; b.id = "digit-" + k;
    b.addEventListener("click", () => showDigit(DATA.labels.indexOf(k)));
    box.appendChild(b);
  }
  document.getElementById("another").addEventListener("click", () => {
    const same = DATA.labels.map((k, i) => (k === state.label ? i : -1)).filter((i) => i >= 0);
    const next = same.length ? same[(same.indexOf(state.index) + 1) % same.length] : 0;
    showDigit(next);
  });
}

// Dragging moves the digit by whole canvas pixels, its frame kept inside the canvas.
function setUpDragging() {
  const input = document.getElementById("input");
  input.addEventListener("pointerdown", (e) => {
    input.setPointerCapture(e.pointerId);
    drag = {x: e.offsetX, y: e.offsetY, row: state.row, col: state.col};
  });
  input.addEventListener("pointermove", (e) => {
    if (drag === null) return;
    const row = drag.row + Math.round((e.offsetY - drag.y) / SCALE);
    const col = drag.col + Math.round((e.offsetX - drag.x) / SCALE);
    state.row = Math.max(0, Math.min(S - h, row));
    state.col = Math.max(0, Math.min(S - w, col));
    redraw();
  });
  for (const end of ["pointerup", "pointercancel"]) {
    input.addEventListener(end, () => { drag = null; });
  }
}

// The drawing pad -> an h x w picture: the square around the ink is cut into h x w cells and
// each cell keeps the share of it covered by ink, the way scikit-learn's 8x8 digits were made
// from 32x32 bitmaps (counts of ink pixels in 4x4 blocks). The darkest cell becomes 1.
function padToPicture() {
  const pad = document.getElementById("pad");
  const ink = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
  let r0 = pad.height, r1 = -1, c0 = pad.width, c1 = -1;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (ink[(y * pad.width + x) * 4 + 3] > 0) {
        r0 = Math.min(r0, y); r1 = Math.max(r1, y); c0 = Math.min(c0, x); c1 = Math.max(c1, x);
      }
    }
  }
  const picture = new Float32Array(h * w);
  if (r1 < 0) return picture;
  const side = Math.max(r1 - r0, c1 - c0) + 1;                 // the square, centred on the ink
  const y0 = (r0 + r1 + 1 - side) / 2, x0 = (c0 + c1 + 1 - side) / 2;
  for (let y = r0; y <= r1; y++) {
    for (let x = c0; x <= c1; x++) {
      const i = Math.min(h - 1, Math.floor((y - y0) * h / side));
      const j = Math.min(w - 1, Math.floor((x - x0) * w / side));
      picture[i * w + j] += ink[(y * pad.width + x) * 4 + 3] / 255;
    }
  }
  const top = Math.max(...picture);
  return picture.map((v) => v / top);
}

function setUpPad() {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  let drawing = false;
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    drawing = true;
    if (padEmpty) {                           // a new drawing starts in the training corner
      state.row = HOME; state.col = HOME;
      padEmpty = false;
    }
    ctx.lineWidth = 16; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
    ctx.beginPath(); ctx.moveTo(e.offsetX, e.offsetY); ctx.lineTo(e.offsetX + 0.1, e.offsetY);
    ctx.stroke();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    ctx.lineTo(e.offsetX, e.offsetY); ctx.stroke();
    state.picture = padToPicture(); state.label = null;
    redraw();
  });
  for (const end of ["pointerup", "pointercancel"]) {
    pad.addEventListener(end, () => {
      if (!drawing) return;
      drawing = false;
      state.picture = padToPicture(); state.label = null;
      redraw();
    });
  }
  document.getElementById("clear").addEventListener("click", () => {
    ctx.clearRect(0, 0, pad.width, pad.height);
    padEmpty = true;
    state.picture = new Float32Array(h * w); state.label = null;
    redraw();
  });
}

// ---- the self-test: this page's logits against NumPy's -----------------------------------------
function selfTest() {
  const canvases = decodeFloats(DATA.selftest.canvases);      // (count, S, S)
  let worst = 0, where = "";
  for (const net of NETS) {
    for (let n = 0; n < DATA.selftest.count; n++) {
      const x = tensor(1, S, S);
      x.data.set(canvases.subarray(n * S * S, (n + 1) * S * S));
      const outputs = forward(net, x);
      const logits = outputs[outputs.length - 1].data;
      logits.forEach((v, k) => {
        const diff = Math.abs(v - net.logits[n][k]);
        if (!(diff <= worst)) {               // also catches NaN
          worst = diff; where = "network " + net.key + ", test canvas " + n + ", class " + k;
        }
      });
    }
  }
  const ok = worst <= DATA.tolerance;
  const e = document.getElementById("selftest");
  e.className = ok ? "pass" : "fail";
  e.textContent = (ok ? "pass" : "FAIL") + ": self-test, this page's forward pass against " +
    "NumPy's logits on " + DATA.selftest.count + " test canvases for " + NETS.length +
    " networks; largest difference " + worst.toExponential(1) + " (" + where +
    "), tolerance " + DATA.tolerance.toExponential(0) + ".";
}

function timeRedraw() {                       // the median of a few redraws, in milliseconds
  const times = [];
  for (let k = 0; k < 5; k++) {
    const start = performance.now();
    redraw();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const ms = times[2];
  const e = document.getElementById("redraw");
  e.dataset.ms = ms;
  e.textContent = "One redraw of all " + NETS.length + " networks (forward passes and drawing) " +
    "takes " + ms.toFixed(1) + " ms in this browser.";
}

document.getElementById("corner").textContent = DATA.corner;
buildRows();
setUpDigitButtons();
setUpDragging();
setUpPad();
const fmapNet = document.getElementById("fmap-net");
fmapNet.addEventListener("change", () => { setUpResponse(); redraw(); });
document.getElementById("autocentre").addEventListener("change", redraw);
setUpResponse();
showDigit(Math.max(0, DATA.labels.indexOf(3)));
selfTest();
timeRedraw();
