"""The documents stay true to the code: every setting is in docs/settings.md with the code's default,
and every relative link in the documents leads to a file."""

from __future__ import annotations

import ast
import importlib
import re

import pytest
from pydantic_settings import BaseSettings

from callcenterai.config import PROJECT_ROOT

SETTINGS_DOC = PROJECT_ROOT / "docs" / "settings.md"
DOCUMENTS = [
    PROJECT_ROOT / "README.md",
    PROJECT_ROOT / "MLOPS_GUIDE.md",
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
]
# The product's own environment lookups (those of tests and benchmarks are listed by hand).
CODE = [*(PROJECT_ROOT / "callcenterai").rglob("*.py"), *(PROJECT_ROOT / "services").rglob("*.py")]
CODE += [*(PROJECT_ROOT / "scripts").glob("*.py"), PROJECT_ROOT / "setup_mlops.py"]
ENVIRONMENT_READ = re.compile(
    r"""(?:environ\.get\(|getenv\(|environ\[)["']([A-Z][A-Z0-9_]*)["'](?!\]\s*=[^=])"""
)


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class in the package, found by reading the source (wherever it lives)."""
    classes = []
    for path in sorted((PROJECT_ROOT / "callcenterai").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.name for node in tree.body if isinstance(node, ast.ClassDef) and settings_bases(node)]
        if names:
            module = importlib.import_module(".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts))
            classes += [getattr(module, name) for name in names]
    return [cls for cls in classes if issubclass(cls, BaseSettings)]


def settings_bases(node: ast.ClassDef) -> bool:
    named = [base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases]
    return any(name.endswith("Settings") for name in named)


def own_settings(cls: type[BaseSettings]) -> dict[str, object]:
    """The environment variables ``cls`` adds to its bases, with their defaults."""
    inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "model_fields", {})}
    return {
        field.validation_alias: field.default
        for name, field in cls.model_fields.items()
        if name not in inherited and isinstance(field.validation_alias, str)
    }


def section_of(cls: type) -> str:
    """The part of docs/settings.md under the heading that names the class."""
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    matching = [part for part in parts if f"`{cls.__name__}`" in part.splitlines()[0]]
    assert matching, f"docs/settings.md has no '## ... (`{cls.__name__}`)' section"
    return matching[0]


def documented_default(section: str, variable: str) -> str:
    rows = [line for line in section.splitlines() if line.startswith(f"| `{variable}` |")]
    assert rows, f"docs/settings.md does not document {variable}"
    return rows[0].split("|")[2].strip()


def test_every_settings_class_is_found():
    names = {cls.__name__ for cls in settings_classes()}
    assert {"ServiceSettings", "ClassifierSettings", "AgentSettings", "WebSettings"} <= names


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda cls: cls.__name__)
def test_every_setting_is_documented_with_its_default(cls):
    section = section_of(cls)
    for variable, default in own_settings(cls).items():
        written = documented_default(section, variable)
        if isinstance(default, bool):
            assert written.split()[0] == str(
                int(default)
            ), f"{variable}: the code's default is {int(default)}"
        elif isinstance(default, (int, float)):
            number = re.match(r"[\d.]+", written)
            assert number and float(number.group()) == default, f"{variable}: the code's default is {default}"


def test_every_environment_variable_the_code_reads_is_documented():
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    read = {name for path in CODE for name in ENVIRONMENT_READ.findall(path.read_text(encoding="utf-8"))}
    assert "CALLCENTERAI_PARAMS" in read  # the pattern finds what it is meant to
    missing = sorted(name for name in read if f"`{name}`" not in text)
    assert missing == [], f"read by the code, not in docs/settings.md: {missing}"


def test_every_relative_link_in_the_documents_leads_to_a_file():
    broken = []
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#\s]+)", document.read_text(encoding="utf-8")):
            if "://" not in target and not (document.parent / target).exists():
                broken.append(f"{document.relative_to(PROJECT_ROOT)}: {target}")
    assert broken == [], f"links to no file: {broken}"
