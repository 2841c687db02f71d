"""``cnnviz latent``: encode a dataset with an autoencoder, save the scatter + decoded manifold figure, or
(``--traverse``) a traversal of every latent dimension.

TensorFlow is imported only when the command runs, so ``cnnviz latent --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path

from cnnviz_gui.commands.common import TextProgress, fail, write_outputs

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
# the bounds of core.latent.traversal, repeated here so that --help imports nothing heavy
MAX_STEPS = 31
MAX_RANGE = 10.0


def add_parser(sub) -> None:
    """Register the ``latent`` sub-command on the argparse sub-parsers ``sub``."""
    p = sub.add_parser(
        "latent",
        help="encode a dataset with an autoencoder/VAE; save the latent scatter and decoded grid",
        description="Encode a dataset with an autoencoder or VAE and save a figure of its latent space "
        "(points coloured by class beside the decoder's images over the same region). The encoder and "
        "decoder are recognised (nested sub-models, or the narrowest vector layer); name them with "
        "--encoder/--decoder or --bottleneck to correct it.",
    )
    p.add_argument(
        "model", metavar="MODEL", help=".keras or .h5 autoencoder (or the encoder, with --decoder-file)"
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument("--encoder", metavar="NAME", help="name of the encoder sub-model (with --decoder)")
    how.add_argument("--bottleneck", metavar="LAYER", help="split the model at this layer")
    how.add_argument(
        "--decoder-file", metavar="FILE", help="a separate decoder model; MODEL is then the encoder"
    )
    p.add_argument("--decoder", metavar="NAME", help="name of the decoder sub-model (with --encoder)")
    p.add_argument(
        "--dataset", default="mnist-sample", help="dataset name or path (default: the bundled sample)"
    )
    p.add_argument(
        "--convention",
        default=None,
        help="input range the model expects: standardised, 0..1, 0..255, caffe, -1..1 or torch (default: "
        "0..255 when the model rescales its input itself, else 0..1)",
    )
    p.add_argument("--out", required=True, metavar="FIG", help="figure file: .png, .svg or .pdf")
    p.add_argument("--npz", default=None, metavar="FILE", help="also save z, labels and extent to this .npz")
    p.add_argument(
        "--grid", type=int, default=20, metavar="N", help="decoded grid size N x N (1..30; default 20)"
    )
    p.add_argument(
        "--traverse",
        action="store_true",
        help="instead of the scatter: move the data's mean along each latent dimension and decode; one row "
        "per dimension, sorted by how much it changes the image (the npz then holds 'traversal')",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=9,
        metavar="S",
        help=f"traversal steps per dimension (2..{MAX_STEPS}; default 9)",
    )
    p.add_argument(
        "--range",
        type=float,
        default=3.0,
        metavar="R",
        dest="range_sd",
        help="traverse from -R to +R standard deviations of the encoded data (default 3)",
    )
    p.add_argument(
        "--centre",
        default=None,
        metavar="Z0,Z1,...",
        help="traverse around this latent point instead of the data's mean (one number per dimension)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Execute ``cnnviz latent``; returns the exit status (2 with one line on stderr on bad input)."""
    if Path(args.out).suffix.lower() not in FIGURE_SUFFIXES:
        return fail(f"--out must end in .png, .svg or .pdf (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return fail(f"--npz must end in .npz (got '{args.npz}')")
    if not 1 <= args.grid <= 30:
        return fail(f"--grid must be between 1 and 30 (got {args.grid})")
    from cnnviz_gui.core.preprocess import CONVENTIONS

    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    if bool(args.encoder) != bool(args.decoder):
        return fail("give both --encoder and --decoder (the names of the two sub-models), or --bottleneck")
    if not 2 <= args.steps <= MAX_STEPS:
        return fail(f"--steps must be between 2 and {MAX_STEPS} (got {args.steps})")
    if not 0 < args.range_sd <= MAX_RANGE:
        return fail(f"--range must be above 0 and at most {MAX_RANGE:g} (got {args.range_sd:g})")
    centre = None
    if args.centre is not None:
        try:
            centre = [float(v) for v in args.centre.replace(" ", "").split(",") if v]
        except ValueError:
            return fail(f"--centre takes numbers separated by commas, e.g. 0.5,-1 (got '{args.centre}')")
        if not args.traverse:
            return fail("--centre is the point a traversal moves: use it with --traverse")

    import numpy as np

    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.latent.figures import overview_figure
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

    try:
        loaded = open_model(args.model)
        decoder_model = open_model(args.decoder_file).model if args.decoder_file else None
    except ModelLoadError as err:
        return fail(err.message)
    try:
        parts = latent.recognise(
            loaded.model, args.encoder, args.decoder, args.bottleneck, decoder_model=decoder_model
        )
        space = latent.LatentSpace(parts, args.convention or latent.input_convention(loaded.model))
        rec = parts.recognition
        if args.decoder_file:
            rec.encoder_name, rec.decoder_name = Path(args.model).name, Path(args.decoder_file).name
        print(rec.message)
        if centre is not None and len(centre) != rec.z_dim:
            return fail(
                f"--centre needs {rec.z_dim} numbers for this {rec.z_dim}-D latent space, got {len(centre)}"
            )
        ds = latent.load_named_dataset(args.dataset)
        bar = TextProgress("encode")
        encoded = space.encode(ds.x, progress=bar)
        bar.done()
        stats = latent.latent_statistics(encoded.z, ds.y, len(ds.class_names))
        if args.traverse:
            print(stats.format_text(ds.class_names))
            return _traverse(args, space, encoded.z, centre, loaded.info.name, rec, ds)
        proj = latent.fit_projection(encoded.z)
        shown = proj.transform(encoded.z)
        bounds = latent.data_bounds(shown)
        grid = space.decode_grid(proj, bounds, args.grid)
    except latent.LatentError as err:
        return fail(err.message)
    print(stats.format_text(ds.class_names))
    kind = "VAE (z_mean)" if rec.kind == "vae" else "autoencoder"
    title = f"{loaded.info.name}: {kind}, {rec.z_dim}-D latent space; {len(ds):,} points of {ds.name}"
    centroids = proj.transform(np.nan_to_num(stats.centroids)) if len(stats.counts) else None
    if centroids is not None:
        centroids[stats.counts == 0] = np.nan
    return write_outputs(
        args.out,
        lambda: overview_figure(shown, ds.y, ds.class_names, proj.axis_names, grid, title, centroids),
        args.npz,
        lambda: {"z": encoded.z, "labels": ds.y, "extent": stats.extent},
    )


def _traverse(args, space, z, centre, model_name: str, rec, ds) -> int:
    """The ``--traverse`` figure and npz: every latent dimension moved from -R to +R SDs around the centre."""
    from cnnviz_gui.core.latent.figures import traversal_figure
    from cnnviz_gui.core.latent.space import LatentError
    from cnnviz_gui.core.latent.traversal import latent_traversal

    bar = TextProgress("decode")
    try:
        result = latent_traversal(space, z, centre, args.steps, args.range_sd, progress=bar)
    except LatentError as err:
        return fail(err.message)
    bar.done()
    where = "the given point" if centre is not None else f"the mean of {len(z):,} encoded points of {ds.name}"
    print(f"traversal of {rec.z_dim} latent dimensions, {args.steps} steps from -{args.range_sd:g} to "
          f"+{args.range_sd:g} SD around {where}; rows by mean pixel change:")  # fmt: skip
    print("  " + ", ".join(f"z{k} {c:.3f}" for k, c in zip(result.dims, result.change, strict=True)))
    kind = "VAE (z_mean)" if rec.kind == "vae" else "autoencoder"
    title = (
        f"{model_name}: {kind}, {rec.z_dim}-D; each dimension from -{args.range_sd:g} to "
        f"+{args.range_sd:g} SD around {'a given point' if centre is not None else 'the data mean'}"
    )
    return write_outputs(args.out, lambda: traversal_figure(result, title), args.npz, result.arrays)
