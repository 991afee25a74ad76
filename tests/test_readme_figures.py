"""Two different measurements of mnist_cnn's training time in the README each say what they are."""

from benchmarks import update_readme
from modelzoo import recipe_file


def test_the_performance_section_names_the_recipe_tables_other_figure():
    published = recipe_file.measured_results()["mnist_cnn"]["train_seconds"]
    performance = update_readme.render_performance()
    assert (
        f"The recipe table's {published:.0f} s for `mnist_cnn` is a different measurement"
        in performance
    )
    assert "separate, repeated measurement" in update_readme.render_recipes()
