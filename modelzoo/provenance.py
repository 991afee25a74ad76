"""Where a result came from: the versions of the packages that shaped it (metrics.json's "versions")."""

from __future__ import annotations

import importlib.metadata

#: The packages whose versions a run's result (and an exported card) records.
PACKAGES = ("modelzoo", "tensorflow", "keras", "tensorflow-datasets")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a run's result ("not installed" for a missing one)."""
    found = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
