"""The TF-IDF + calibrated LinearSVC classifier: building it, saving it, compiling it.

The fitted scikit-learn pipeline is saved with skops (``pipeline.skops``) for
analysis; what is served is its compiled form (``tfidf_compiled.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from callcenterai.config import TrainTfidfParams
from callcenterai.models.tfidf_compiled import CompiledTfidf, TfidfArrays
from callcenterai.text import as_text_list, normalize_text


def build_pipeline(params: TrainTfidfParams) -> Pipeline:
    """The vectorizer normalises raw text itself, so the saved model accepts raw tickets."""
    vectorizer = TfidfVectorizer(
        preprocessor=normalize_text,
        ngram_range=tuple(params.ngram_range),
        min_df=params.min_df,
        max_df=params.max_df,
        max_features=params.max_features,
        sublinear_tf=params.sublinear_tf,
        dtype=np.float64,
    )
    svm = LinearSVC(
        C=params.C,
        class_weight=params.class_weight,
        max_iter=params.max_iter,
        random_state=params.random_state,
    )
    calibrated = CalibratedClassifierCV(svm, method=params.calibration_method, cv=params.calibration_folds)
    # The first step lets the saved model take a DataFrame (MLflow pyfunc) as well as a list.
    texts = FunctionTransformer(as_text_list, validate=False)
    return Pipeline([("texts", texts), ("tfidf", vectorizer), ("clf", calibrated)])


def arrays_of(pipeline: Pipeline) -> TfidfArrays:
    """The numbers of a fitted TF-IDF + CalibratedClassifierCV(LinearSVC) pipeline."""
    vectorizer: TfidfVectorizer = pipeline.named_steps["tfidf"]
    calibrated: CalibratedClassifierCV = pipeline.named_steps["clf"]
    classes = tuple(str(c) for c in calibrated.classes_)
    if len(classes) < 3:
        raise ValueError("the compiled form supports three or more classes")
    if vectorizer.norm != "l2" or not vectorizer.use_idf:
        raise ValueError("the compiled form expects l2 norm and idf weighting")
    own_words = (
        vectorizer.analyzer == "word"
        and vectorizer.preprocessor is normalize_text
        and vectorizer.tokenizer is None
        and vectorizer.stop_words is None
        and vectorizer.token_pattern == r"(?u)\b\w\w+\b"
    )
    if not own_words:
        raise ValueError("the compiled form needs build_pipeline's word analyzer over normalize_text")
    folds = calibrated.calibrated_classifiers_
    coefs, intercepts = [], []
    for fold in folds:
        order = np.searchsorted(calibrated.classes_, fold.estimator.classes_)
        if not np.array_equal(order, np.arange(len(classes))):
            raise ValueError("a calibration fold is missing a class")
        coefs.append(fold.estimator.coef_)
        intercepts.append(fold.estimator.intercept_)
    calibrators = [c for f in folds for c in f.calibrators]
    if calibrated.method == "sigmoid":
        calibration = {"a": np.array([c.a_ for c in calibrators]), "b": np.array([c.b_ for c in calibrators])}
    elif calibrated.method == "isotonic":
        lengths = [len(c.X_thresholds_) for c in calibrators]
        calibration = {
            "x": np.concatenate([c.X_thresholds_ for c in calibrators]).astype(np.float64),
            "y": np.concatenate([c.y_thresholds_ for c in calibrators]).astype(np.float64),
            "offsets": np.cumsum([0, *lengths]),
        }
    else:
        raise ValueError(f"calibration method {calibrated.method!r} is not supported")
    terms = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        terms[column] = term
    return TfidfArrays(
        classes=classes,
        terms=terms,
        idf=vectorizer.idf_.astype(np.float64),
        weights=np.ascontiguousarray(np.vstack(coefs).T),
        bias=np.concatenate(intercepts),
        n_folds=len(folds),
        sublinear=bool(vectorizer.sublinear_tf),
        ngram_range=tuple(vectorizer.ngram_range),
        method=calibrated.method,
        calibration=calibration,
    )


def compile_pipeline(pipeline: Pipeline, native: bool = True) -> CompiledTfidf:
    return CompiledTfidf(arrays_of(pipeline), native=native)


PIPELINE_FILE = "pipeline.skops"
# The only types a saved pipeline may hold beyond skops' own safe set. The list lives
# here, in the code, never in the file being loaded.
SKOPS_TRUSTED_TYPES = (
    "callcenterai.text.as_text_list",
    "callcenterai.text.normalize_text",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
)


def save_pipeline(pipeline: Pipeline, path: Path) -> None:
    import skops.io

    skops.io.dump(pipeline, str(path))


def load_pipeline(path: Path) -> Pipeline:
    """The fitted scikit-learn pipeline (for analysis and tests; services load the arrays).

    skops refuses any type outside its safe set and ``SKOPS_TRUSTED_TYPES``; the
    error names them.
    """
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(file=str(path))) - set(SKOPS_TRUSTED_TYPES))
    if untrusted:
        raise ValueError(f"{Path(path).name} holds types outside the allowlist: {', '.join(untrusted)}")
    return skops.io.load(str(path), trusted=list(SKOPS_TRUSTED_TYPES))
