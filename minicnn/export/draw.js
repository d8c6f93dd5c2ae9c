// Painting onto the page's canvases: the input, the probability bars, the accuracy maps and
// the feature maps, all on one viridis colour scale. The state they show lives in page.js.
"use strict";

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
