"""Build hook for the one C extension; project metadata lives in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and
the TF-IDF model is scored by its pure-Python compiled form (same numbers, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "callcenterai.models._tfidf_native",
            ["callcenterai/models/_tfidf_native.c"],
            extra_compile_args=["-O2", "-std=c99"],
            optional=True,
        )
    ]
)
