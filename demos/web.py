"""Write the corner experiment's six networks into one web page: draw a digit anywhere.

The networks a-f are those of demos/corner.py (the rows of minicnn.measure.corner.MODELS),
trained and tested the same way (corner.run): every 8x8 training digit in the top-left corner of
a 32x32 canvas, then an accuracy map with every test digit at every grid position. This demo
writes a single HTML file with the weights inside and a JavaScript forward pass. Open the
file in a browser (no server, no network): drag a test digit or draw one, and watch a's answer
collapse away from the corner while f's stays, and the last convolution's response move along
with the digit. Auto-centre shows what a draw-a-digit page hides by centring every drawing.

To look at a network of your own in the page, edit a row of MODELS (or the trunk) in
minicnn/measure/corner.py and rerun; any Sequential of the layers in minicnn.export.SUPPORTED
exports.

Run:  python demos/web.py                       (writes figures/corner_page.html)
      python demos/web.py --page PATH --quick   (tiny training, for tests)
"""

from common import finish, parser, run_jobs

from minicnn.export import write_page
from minicnn.measure import corner

CANVAS = 32          # the networks' input: 32x32, as in the corner experiment's default


def main(argv=None):
    args = parse_args(argv)
    setup = corner.prepare(quick=args.quick, canvas=CANVAS, stride=args.stride, rng=args.seed)
    keys = args.models.split(",")
    print(f"training {', '.join(keys)} on {len(setup.X)} canvases with the digit in the corner "
          f"(offsets 0..{corner.CORNER}), {'quick budgets' if args.quick else 'full budgets'}")
    tasks = {key: (corner.run, (key, setup), {"quick": args.quick, "rng": args.seed})
             for key in keys}
    runs = run_jobs(tasks, args.jobs, done=lambda key, r: print(
        f"  trained and tested {key} ({r.description}) in {r.seconds:.1f} s", flush=True))
    print("\n" + corner.table({f"{k} {r.description}": r.summary for k, r in runs.items()}, setup))

    # each network, its name and its accuracy map (G, G) go into the page
    networks = {key: (r.model, r.description, r.map) for key, r in runs.items()}
    page = args.page or args.out / "corner_page.html"
    size = write_page(page, networks, setup.X_test, setup.y_test, canvas=CANVAS,
                      corner=corner.CORNER, grid=setup.grid)
    print(f"\nwrote {page} ({size / 1e6:.2f} MB): open it in a web browser, straight from the "
          "disk (no server, nothing downloaded)")
    finish(args)
    return {"page": page, "size": size, "networks": networks, "setup": setup,
            "summaries": {key: r.summary for key, r in runs.items()}}


def parse_args(argv):
    p = parser(__doc__, defaults={"stride": 4}, quick={"stride": 8}, jobs="networks")
    p.add_argument("--page", help="the HTML file to write (default OUT/corner_page.html)")
    p.add_argument("--models", default="a,b,c,d,e,f", subset_of=corner.MODELS,
                   help=f"comma-separated rows of corner.MODELS, of {','.join(corner.MODELS)} "
                   "(default all)")
    p.add_argument("--stride", type=int, help="grid step of the accuracy maps, in pixels")
    return p.parse(argv)


if __name__ == "__main__":
    main()
