"""modelzoo.recipes: declarative training recipes, one file per recipe in this folder.

Installed as the `modelzoo.recipes` package (see setup.cfg), so the same files serve an editable
checkout and a regular install. Run `python -m modelzoo.recipes --help`.
"""
