"""The printed numbers and figures of demos/faces.py: accuracy maps, sliding curves, top patches,
the fuzzy response."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from common import accuracy_panel, show_crop

from minicnn import place_on_canvas
from minicnn.measure import corner


def _title(fig, text, width_in):
    fig.suptitle(textwrap.fill(text, int(11 * width_in)), fontsize=10)


def _mosaic(images, per_row=4):
    """(n, 1, s, s) images -> one (rows * (s + 1), per_row * (s + 1)) picture, white gaps."""
    n, _, s, _ = images.shape
    rows = -(-n // per_row)
    out = np.ones((rows * (s + 1), per_row * (s + 1)))
    for i, img in enumerate(images):
        r, c = divmod(i, per_row)
        out[r * (s + 1):r * (s + 1) + s, c * (s + 1):c * (s + 1) + s] = img[0]
    return out


def plot_maps(runs, setup, what):
    """A training and a test canvas, then every model's accuracy map on one colour scale."""
    keys, grid, S, s = list(runs), setup.grid, setup.canvas, setup.image
    cols = max(len(keys), 4)
    width = 2.6 * cols + 1
    fig, axes = plt.subplots(2, cols, figsize=(width, 6.4), squeeze=False, layout="constrained")
    test = place_on_canvas(setup.X_test[:1], S, (setup.far[0][1],) * 2)[0, 0]     # (S, S)
    for ax, img, title in zip(axes[0], (setup.X[0, 0], test),
                              ("a training canvas: the patch\nlies in the dashed corner",
                               "a test canvas: every test patch\nat every grid position")):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((-0.5, -0.5), corner.CORNER + s, corner.CORNER + s,
                                   fill=False, edgecolor="red", linestyle="--"))
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="canvas column (px)", ylabel="canvas row (px)")
    for ax, label, title in zip(axes[0, 2:4], (1, 0), ("test faces", ("test non-faces (black:\n"
                                                       "past the photograph's edge)"))):
        ax.imshow(_mosaic(setup.X_test[setup.y_test == label][:16]), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    for ax in axes[0, 4:]:
        ax.axis("off")
    for ax, key in zip(axes[1], keys):
        im = accuracy_panel(ax, grid, 100 * runs[key].map, f"{key}: {runs[key].description}\n"
                            f"min {100 * runs[key].summary['min']:.0f}%", "patch column (px)",
                            vmin=0, vmax=100)
    for ax in axes[1, len(keys):]:
        ax.axis("off")
    axes[1, 0].set_ylabel("patch row (px)")
    fig.colorbar(im, ax=list(axes[1, :len(keys)]), shrink=0.8,
                 label="test accuracy (%), chance 50%")
    _title(fig, "Faces trained only in the red corner: accuracy with every test patch (half "
           f"faces) placed at each position ({what})", width)
    return fig


def plot_slides(runs, slides, thumbs, row, what):
    """Thumbnails of the sliding patches, then P(true class) along the row for each model."""
    keys = list(runs)
    width = 2.5 * (len(keys) + 1)
    fig, axes = plt.subplots(1, len(keys) + 1, figsize=(width, 3.3), squeeze=False,
                             layout="constrained")
    n = len(thumbs)
    strip = np.concatenate([np.pad(t[0], 1, constant_values=1) for t in thumbs], axis=0)
    axes[0, 0].imshow(strip, cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title(f"the {n} sliding patches\n(faces first)", fontsize=9)
    axes[0, 0].axis("off")
    faces = n // 2
    for ax, key in zip(axes[0, 1:], keys):
        for i, curve in enumerate(slides[key]):
            ax.plot(curve, color="tab:blue" if i < faces else "tab:orange", linewidth=0.9,
                    label=("faces" if i == 0 else "not faces" if i == faces else None))
        ax.axvspan(-0.5, corner.CORNER + 0.5, color="red", alpha=0.12, label="trained columns")
        ax.set_title(f"{key}: {runs[key].description}", fontsize=9)
        ax.set_xlabel("patch column (px)")
        ax.set_ylim(-0.02, 1.02)
    axes[0, 1].set_ylabel("P(true class)")
    axes[0, 1].legend(fontsize=7, loc="lower left")
    _title(fig, f"Each patch slides along row {row}, one pixel at a time: the probability each "
           f"model gives its true class ({what})", width)
    return fig


def plot_patches(patches, what):
    """One row per channel (the most active of each layer), its top crops best first."""
    names = list(patches)
    n_rows = sum(len(t["channels"]) for t in patches.values())
    n_top = patches[names[0]]["patch"].shape[1]
    fig, axes = plt.subplots(n_rows, n_top, figsize=(1.0 * n_top + 2.2, 1.0 * n_rows + 1.2),
                             squeeze=False)
    fig.subplots_adjust(top=0.9, bottom=0.03, left=0.14, right=0.8, hspace=0.15, wspace=0.1)
    r = 0
    for name in names:
        t = patches[name]
        for c, ch in enumerate(t["channels"]):
            for j in range(n_top):
                im = show_crop(axes[r, j], t["patch"][c, j, 0], "gray")
                for side in axes[r, j].spines.values():   # blue frame: cut from a face
                    side.set(color="tab:blue" if t["face"][c, j] else "0.7", linewidth=1.5)
            vote = f"\nvotes face {t['vote'][c]:+.2f}" if "vote" in t else ""
            label = f"{name.split(',')[0]} ch{ch}\n{t['size']}x{t['size']} px{vote}"
            if "moved down" in name:
                label += "\n(moved down)"
            axes[r, 0].set_ylabel(label, fontsize=8)
            r += 1
    fig.colorbar(im, ax=axes, shrink=0.5, label="pixel (0 black .. 1 white); orange: padding")
    fig.suptitle(f"What drives the most active channels of each layer ({what}): the crops "
                 "(each unit's field) that excite them most,\nbest first; blue frame = cut "
                 "from a face, grey = from a non-face; 'votes face': the Linear's weight to "
                 "'face' minus 'not a face';\n'moved down': the conv3 channels that lower the "
                 "'face' margin most when the faces move 16 px down", fontsize=10)
    return fig


def plot_fuzzy(fuzzy, faces, S, start, what):
    """One face at each shift: the canvas, its strongest conv3 channel; the numbers over all."""
    shifts = fuzzy["shifts"]
    maps, n = fuzzy["maps"][:, 0], len(shifts)
    width = 2.3 * n + 1.5
    fig = plt.figure(figsize=(width, 8.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2, 1])
    axes = top.subplots(2, n)
    vmax = maps.max()
    side = faces.shape[-1]
    for i, k in enumerate(shifts):
        canvas = place_on_canvas(faces[:1], S, (start[0], start[1] + k))[0, 0]
        axes[0, i].imshow(canvas[:side + 12, :side + 20], cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(f"moved {k} px right\nP(face) = {fuzzy['p_face'][i, 0]:.2f}",
                             fontsize=9)
        axes[0, i].set(xlabel="canvas column (px)")
        h, w = maps[i].shape                   # one cell per 4x4 canvas pixels (total stride 4)
        cells = (-0.5, 4 * w - 0.5, 4 * h - 0.5, -0.5)
        im = axes[1, i].imshow(maps[i], cmap="viridis", vmin=0, vmax=vmax, extent=cells)
        axes[1, i].contour(maps[i] > maps[0].max() / 2, levels=[0.5], colors="red",
                           linewidths=1, extent=(1.5, 4 * w - 2.5, 1.5, 4 * h - 2.5))
        axes[1, i].set(xlim=(-0.5, side + 19.5), ylim=(side + 11.5, -0.5))
        axes[1, i].set_title(f"{fuzzy['count'][i, 0]} map pixels > half max\n"
                             f"peak x{fuzzy['peak'][i, 0]:.2f}", fontsize=9)
        axes[1, i].set(xlabel="canvas column (px)")
    axes[0, 0].set_ylabel("canvas row (px)")
    axes[1, 0].set_ylabel("canvas row (px); a cell = 4x4 px")
    top.colorbar(im, ax=axes[1], shrink=0.8, label=f"conv3 ch{fuzzy['channel'][0]} response")
    ax = bottom.subplots()
    dp = np.abs(fuzzy["p_face"] - fuzzy["p_face"][0])                      # (shifts, n faces)
    changed = (fuzzy["pred"] != fuzzy["pred"][0]).mean(axis=1)
    for values, label, colour in ((fuzzy["peak"], "peak / unshifted peak", "tab:green"),
                                  (dp, "|change of P(face)|", "tab:blue")):
        ax.plot(shifts, values.mean(axis=1), "o-", color=colour, label=label + " (mean, range)")
        ax.fill_between(shifts, values.min(axis=1), values.max(axis=1), color=colour, alpha=0.15)
    ax.plot(shifts, changed, "s--", color="black", label="share of faces whose class changes")
    ax.set(xticks=shifts, xlabel="shift right (px)", ylabel="over all test faces",
           ylim=(-0.05, max(1.05, float(fuzzy["peak"].max()) + 0.05)))
    ax.legend(fontsize=8, loc="center right")
    ax.grid(alpha=0.3)
    _title(fig, f"A face moved right 0-8 px and its strongest conv3 channel ({what}); red "
           f"outline: pixels above half the unshifted maximum. Below: the same numbers for "
           f"every test face", width)
    return fig


def report_inside(inside, model, start, down):
    """Print the top-patch, moved-down and fuzzy-response numbers of `model`."""
    print(f"\ntop patches of model {model} (the most active channels of each layer):")
    for name, t in list(inside["patches"].items())[:3]:
        print(f"  {name} ({t['size']}x{t['size']} px field): {100 * t['face'].mean():.0f}% cut "
              f"from faces; {100 * (1 - t['inside'].mean()):.0f}% of their pixels lie off the "
              f"patch (blank canvas or padding)")
    votes = inside["patches"]["conv3"]["vote"]
    print("  conv3 channels' vote for 'face' in the Linear (weight to 'face' minus weight to "
          "'not a face'): " + ", ".join(f"ch{c} {v:+.2f}" for c, v in
                                         zip(inside["patches"]["conv3"]["channels"], votes)))
    d = inside["down"]
    worst = np.argsort(d["terms"])[:3]                                      # most against 'face'
    print(f"\nfaces moved from {start} down by {down} px: the margin logit(face) - logit(not a "
          f"face), {d['before']:+.2f} on average before, changes by {d['margin']:+.2f}; "
          f"{100 * d['lost']:.0f}% of the faces are then called 'not a face'. The channels that "
          "pull it down most: "
          + ", ".join(f"ch{c} {d['terms'][c]:+.2f} (peak {d['peak_change'][c]:+.2f}, vote "
                      f"{d['vote'][c]:+.2f})" for c in worst))
    f = inside["fuzzy"]
    count, change = f["count"][0], f["pred"][1:] != f["pred"][0]
    print(f"\nfuzzy response, {len(count)} test faces at {start} moved right: the strongest "
          f"conv3 channel has {count.mean():.1f} pixels above half its maximum (range "
          f"{count.min()}..{count.max()})")
    print(f"{'shift (px)':>11}{'pixels > half':>15}{'peak / unshifted':>18}{'|dP(face)|':>12}"
          f"{'class changed':>15}")
    for i, k in enumerate(inside["fuzzy"]["shifts"][1:], 1):
        dp = np.abs(f["p_face"][i] - f["p_face"][0])
        print(f"{k:>11}{f['count'][i].mean():>9.1f} ({f['count'][i].min()}..{f['count'][i].max()})"
              f"{f['peak'][i].mean():>10.2f} ({f['peak'][i].min():.2f}..{f['peak'][i].max():.2f})"
              f"{dp.mean():>7.3f} (..{dp.max():.2f}){100 * change[i - 1].mean():>6.0f}%")
