"""CLI sub-commands, one module each (``add_parser(sub)`` registers the sub-parser)."""
