"""The zoo's data sets, one registered entry each: `registry.py` holds `DatasetSpec` and
`register_dataset`; `mnist.py`, `pima_diabetes/` (a tfds builder with its CSV) and `toy.py`
(generated in code) each register theirs, and `modelzoo.data` imports them. `wild_digits/` is
the held-out set of digits users bring, for scoring only (not a training data set)."""
