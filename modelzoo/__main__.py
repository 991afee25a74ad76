"""`python -m modelzoo` is the `modelzoo` command."""

from modelzoo.cli import main

main()
