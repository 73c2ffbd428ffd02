"""The pipeline stages, one module each, named as in ``dvc.yaml``; ``scripts/`` holds their
thin command lines. Each stage writes its outputs all or nothing: a stage that fails leaves
the previous outputs as they were (``dvc.yaml`` marks them ``persist``).

Nothing is imported here, so a stage imports only its own module and DVC re-runs it
only when that module (or what it imports) changes.
"""
