"""Command-line interface: ``sb-rectifier <subcommand>``.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func``.
"""
