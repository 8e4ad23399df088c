"""Implementations of the ``trackcore`` subcommands, one module each, each with ``run(args)``."""
