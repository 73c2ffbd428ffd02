import pytest

from callcenterai.config import (
    ConfigError,
    EvaluateParams,
    PrepareParams,
    RegistryParams,
    TrainTfidfParams,
    load_section,
)


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_project_params_file_parses_every_section():
    assert load_section("prepare", PrepareParams).test_size == pytest.approx(0.2)
    assert load_section("train_tfidf", TrainTfidfParams).ngram_range == (1, 2)
    assert load_section("evaluate", EvaluateParams).target_accuracy == pytest.approx(0.95)
    assert load_section("registry", RegistryParams).gate_metric == "macro_f1"


def test_a_missing_section_takes_the_defaults(tmp_path):
    assert load_section("train_tfidf", TrainTfidfParams, write(tmp_path, "prepare: {}\n")).C == 0.5


@pytest.mark.parametrize(
    "body, where",
    [
        ("train_tfidf: {C: -1}", "train_tfidf.C"),
        ("train_tfidf: {ngram_range: [3, 1]}", "train_tfidf.ngram_range"),
        ("train_tfidf: {calibration_method: magic}", "train_tfidf.calibration_method"),
        ("train_tfidf: {unknown_knob: 1}", "train_tfidf.unknown_knob"),
    ],
)
def test_bad_values_name_the_key(tmp_path, body, where):
    with pytest.raises(ConfigError, match=where):
        load_section("train_tfidf", TrainTfidfParams, write(tmp_path, body))


def test_duplicate_labels_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="prepare.labels"):
        load_section("prepare", PrepareParams, write(tmp_path, "prepare: {labels: [A, A]}"))


def test_broken_yaml_and_missing_file_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_section("prepare", PrepareParams, write(tmp_path, "prepare: [unclosed"))
    with pytest.raises(ConfigError, match="not found"):
        load_section("prepare", PrepareParams, tmp_path / "nope.yaml")
