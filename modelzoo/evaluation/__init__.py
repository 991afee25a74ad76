"""Evaluation reports: where a model fails, in numbers and pictures.

`metrics` computes the numbers with scikit-learn (accuracy, per-class precision / recall / F1,
confusion matrices, calibration, ROC and precision-recall, regression errors), `plots` draws them
with matplotlib, and `report.write_report` writes both into a folder as report.json and report.md.
`modelzoo evaluate` (`modelzoo.evaluation.target`) reports on any export, shipped weights or run;
every recipe run reports on its test evaluation.
"""
