"""The sweep tool's variant syntax: typed values, and typos refused before any training."""

import pytest

from benchmarks.transformer_sweep import parse_variant

BASE = {"checkpoint": "all-MiniLM-L6-v2", "max_length": 96, "epochs": 2, "learning_rate": 1e-4}


def test_base_is_the_params_section_unchanged():
    params = parse_variant("base", BASE)
    assert (params.max_length, params.epochs, params.learning_rate) == (96, 2, 1e-4)


def test_overrides_are_typed_and_the_rest_kept():
    params = parse_variant("max_length=128,learning_rate=2e-4,class_weight=balanced", BASE)
    assert params.max_length == 128
    assert params.learning_rate == pytest.approx(2e-4)
    assert params.class_weight == "balanced"
    assert params.epochs == 2


@pytest.mark.parametrize(
    "variant, named",
    [
        ("max_lenght=128", "max_lenght"),  # a typo'd key
        ("max_length=4", "max_length"),  # out of range
        ("epochs", "key=value"),  # no value
    ],
)
def test_a_bad_variant_is_refused_with_its_name(variant, named):
    with pytest.raises(SystemExit) as raised:
        parse_variant(variant, BASE)
    assert variant in str(raised.value) and named in str(raised.value)


def test_every_benchmark_command_in_the_docs_runs_the_way_it_is_written():
    """A script that imports ``benchmarks.*`` only runs as ``python -m benchmarks.NAME``."""
    import re

    from callcenterai.config import PROJECT_ROOT

    docs = "".join(
        (PROJECT_ROOT / name).read_text() for name in ("README.md", "MLOPS_GUIDE.md", "docs/benchmarks.md")
    )
    wrong = []
    for script in sorted((PROJECT_ROOT / "benchmarks").glob("*.py")):
        needs_module = re.search(r"^\s*(from|import) benchmarks\b", script.read_text(), re.MULTILINE)
        if needs_module and re.search(rf"python benchmarks/{script.name}", docs):
            wrong.append(script.name)
    assert wrong == []
