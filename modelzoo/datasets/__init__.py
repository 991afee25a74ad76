"""Data sets of the project's own: the Pima diabetes tfds builder and the generated toy sets."""
