"""Pima Indians diabetes as a tensorflow-datasets builder, from the CSV shipped beside this file.

768 women of Pima heritage, 8 numeric features, class 1 = tested positive for diabetes (268).
Source and column meanings: `pima-indians-diabetes.names` (NIDDK via the UCI repository).

Missing values: in glucose, blood pressure, skin thickness, insulin and BMI a 0 means "not
measured" (5, 35, 227, 374 and 11 rows). The builder keeps them as 0, exactly as the file has
them: a served model then takes the same raw rows it was trained on, with no imputation step
that training and serving could disagree on. Scaling is a Normalization layer inside the model.

Splits are fixed and stratified by class: 60% train, 20% dev, 20% test, drawn with a constant
seed, so every user gets the same rows in each split.
"""

from __future__ import annotations

from modelzoo.datasets.registry import DatasetSpec, register_dataset
from modelzoo.registry import TensorSpec

FEATURE_NAMES = (
    "pregnancies",
    "glucose",
    "blood_pressure",
    "skin_thickness",
    "insulin",
    "bmi",
    "diabetes_pedigree",
    "age",
)

register_dataset(
    DatasetSpec(
        name="pima_diabetes",
        description="Pima Indians diabetes: 8 raw clinical measurements, 768 rows, 0 = missing.",
        input=TensorSpec("features", (None, len(FEATURE_NAMES)), "float32"),
        target="binary",
        classes=2,
        tfds_name="pima_diabetes",
        tfds_module="modelzoo.datasets.pima_diabetes.builder",
        feature_names=FEATURE_NAMES,
        class_names=("tested negative", "tested positive"),
        origin=(
            "modelzoo's tensorflow-datasets builder 'pima_diabetes' (the original CSV, in the "
            "package)"
        ),
        licence=(
            "no licence stated by the original distribution (UCI Machine Learning Repository; "
            "National Institute of Diabetes and Digestive and Kidney Diseases, donated 1990)"
        ),
    )
)
