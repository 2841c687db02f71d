"""``cnnviz train cnn|ae|vae``: train a default model on the bundled MNIST sample."""

from __future__ import annotations

from cnnviz_gui.commands.common import TextProgress, fail


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a default model on the bundled MNIST sample")
    p.add_argument("kind", choices=["cnn", "ae", "vae"])
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="default: cnn 8, ae 15, vae 20 (what the bundled models used)",
    )
    p.add_argument("--out", default=None, help="output .keras file")
    p.add_argument("--latent-dim", type=int, default=2, help="AE/VAE latent dimension")
    p.add_argument("--beta", type=float, default=1.0, help="VAE weight of the KL term")
    p.set_defaults(func=run)


def run(args) -> int:

    if args.kind != "cnn":
        return _train_autoencoder(args)
    from cnnviz_gui.core.training import cnn as training

    out = args.out or "mnist_cnn.keras"
    bar = TextProgress("train cnn")
    res = training.train_cnn(out, epochs=args.epochs or 8, progress=bar)
    bar.done()
    print(f"test accuracy {res.test_accuracy:.4f} on held-out digits; saved {res.path}")
    return 0


def _train_autoencoder(args) -> int:
    from cnnviz_gui.core.training.autoencoders import train_autoencoder

    kind = args.kind
    if args.latent_dim < 1:
        return fail(f"--latent-dim must be at least 1, got {args.latent_dim}")
    if args.beta < 0:
        return fail(f"--beta must not be negative, got {args.beta}")
    if args.epochs is not None and args.epochs < 1:
        return fail(f"--epochs must be at least 1, got {args.epochs}")
    out = args.out or f"mnist_{kind}.keras"
    bar = TextProgress(f"train {kind}")
    res = train_autoencoder(
        out, kind=kind, epochs=args.epochs, latent_dim=args.latent_dim, beta=args.beta, progress=bar
    )
    bar.done()
    print(f"trained in {res.seconds:.0f} s")
    last = {k: v[-1] for k, v in res.history.items() if v}
    print("final training losses: " + ", ".join(f"{k} {v:.2f}" for k, v in last.items()))
    print("held-out losses:       " + ", ".join(f"{k} {v:.2f}" for k, v in res.test_losses.items()))
    ext = ", ".join(f"z{i} [{lo:+.2f}, {hi:+.2f}]" for i, (lo, hi) in enumerate(res.extent[:8]))
    print(f"latent extent (1st..99th percentile): {ext}{', …' if len(res.extent) > 8 else ''}")
    _print_prior_fit(res)
    print(f"saved {res.path}")
    return 0


def _print_prior_fit(res) -> None:
    """Centre, r99 and the on-data share of prior samples over the dataset: did it converge?"""
    fit = res.prior_fit
    if fit is None:
        return
    name = "z_mean" if res.kind == "vae" else "z"
    print(f"over the {fit.n_points:,} digits of the dataset:")
    for line in fit.format_lines(name):
        print("  " + line)
    if res.kind == "vae":
        if res.recentre_shifts:
            first, last = (
                ", ".join(f"{c:+.2f}" for c in s[:8])
                for s in (res.recentre_shifts[0], res.recentre_shifts[-1])
            )
            print(
                "  moved onto the origin exactly after every epoch (the decoder's first layer takes the shift): "
                f"by ({first}) after the first epoch, ({last}) after the last"
            )
        print("  " + fit.verdict())
