#!/usr/bin/env bash
# Regenerate the committed figures in docs/ with each demo's default command (seed 0).
#
#   tools/regenerate_figures.sh                      every demo below, one after another
#   tools/regenerate_figures.sh rotation antialias   only these demos
#   tools/regenerate_figures.sh --check rotation     write to a temporary folder and compare
#                                                    byte for byte with docs/ (exit 1 if any differ)
#
# Run it inside the project's environment (python must import minicnn). One BLAS thread, as the
# README's run times; the slow demos take minutes on a 2-core machine. Each demo's wall time is
# printed (the README's run-time table comes from one such run).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1

figures() {   # the committed figures each demo writes
    case "$1" in
        equivariance)     echo equivariance.png equivariance_border.png equivariance_stride.png ;;
        weight_sharing)   echo weight_sharing.png ;;
        corner)           echo corner_maps.png corner_sliding.png ;;
        fuzzy_features)   echo fuzzy_features.png fuzzy_maps.png ;;
        augmentation)     echo augment_gallery.png augment_range.png ;;
        antialias)        echo antialias.png antialias_maps.png ;;
        position_leak)    echo position_leak.png position_leak_constant.png ;;
        rotation)         echo rotation.png rotation_maps.png ;;
        receptive_fields) echo receptive_fields.png receptive_fields_patches.png ;;
        explore)          echo explorer.png ;;
        learned_invariance) echo learned_invariance.png ;;
        faces)            echo faces_maps.png faces_sliding.png faces_patches.png faces_fuzzy.png ;;
        faces_why)        echo faces_why.png ;;
        *) echo "unknown demo: $1" >&2; return 1 ;;
    esac
}

run() {       # run one demo's default command, figures into folder $2
    case "$1" in
        explore) python demos/explore.py --save "$2/explorer.png" --row 22 --col 22 --digit 3 ;;
        *)       python "demos/$1.py" --out "$2" ;;
    esac
}

check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
demos=("$@")
if [[ ${#demos[@]} -eq 0 ]]; then
    demos=(equivariance weight_sharing corner fuzzy_features augmentation antialias position_leak
           rotation receptive_fields learned_invariance faces faces_why explore)
fi
status=0
for demo in "${demos[@]}"; do
    names=$(figures "$demo")
    echo "== $demo: $names"
    start=$SECONDS
    if [[ $check -eq 0 ]]; then run "$demo" docs; echo "   took $((SECONDS - start)) s"; continue; fi
    tmp=$(mktemp -d)
    run "$demo" "$tmp" > "$tmp/stdout.txt"
    echo "   took $((SECONDS - start)) s"
    differs=0
    for name in $names; do
        if cmp -s "$tmp/$name" "docs/$name"; then echo "   same: docs/$name"
        else echo "   DIFFERS: docs/$name (new copy and printed output kept in $tmp)"; differs=1; fi
    done
    if [[ $differs -eq 0 ]]; then rm -rf "$tmp"; else status=1; fi
done
exit $status
