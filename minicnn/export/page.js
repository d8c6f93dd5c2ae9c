// The page: a digit on the networks' canvas, every network's answer, the last convolution's
// response, and the self-test. The forward pass is in layers.js, the painting in draw.js.
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
    const wrong = state.label !== null && answer !== state.label;
    verdict.className = wrong ? "verdict wrong" : "verdict";
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
    line("b", "", "", net.key + ") " + net.title);
    line("div", "answer-" + net.key, "verdict", "");
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

function networks() {                        // "6 networks", "1 network"
  return NETS.length + (NETS.length === 1 ? " network" : " networks");
}

// "Try this": which networks lose the digit away from the corner, read off the accuracy maps.
function mapMean(net, keep) {                 // mean accuracy over grid offsets where keep(p)
  let total = 0, n = 0;
  DATA.grid.forEach((r, i) => DATA.grid.forEach((c, j) => {
    if (keep(r) && keep(c)) { total += net.map[i][j]; n++; }
  }));
  return total / n;
}

function tryThis() {
  const far = (p) => p >= S / 2, trained = (p) => p <= DATA.corner;
  const rows = NETS.filter((net) => net.map !== null).map((net) => ({
    net: net, trained: mapMean(net, trained), far: mapMean(net, far)}));
  const pct = (v) => Math.round(100 * v) + "%";
  const says = (r) => r.net.key + " (" + r.net.title + ") gets " + pct(r.trained) +
    " of the test digits right in the training corner and " + pct(r.far) + " in the far quadrant";
  let text = "drag the digit from the corner to the bottom-right.";
  if (rows.length > 0) {
    const drop = rows.reduce((x, y) => (y.trained - y.far > x.trained - x.far ? y : x));
    const best = rows.reduce((x, y) => (y.far > x.far ? y : x));
    text += " On the maps below, " + says(drop) + (best === drop ? "." : "; " + says(best) + ".");
  }
  document.getElementById("try").textContent = text;
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
    "NumPy's logits on " + DATA.selftest.count + " test canvases for " + networks() +
    "; largest difference " + worst.toExponential(1) + " (" + where +
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
  e.textContent = "One redraw of " + (NETS.length > 1 ? "all " : "") + networks() +
    " (forward passes and drawing) takes " + ms.toFixed(1) + " ms in this browser.";
}

document.getElementById("corner").textContent = DATA.corner;
tryThis();
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
