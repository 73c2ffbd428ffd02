"""The dependency vulnerability gate: pip-audit's reports, the reviewed ignore list and the verdict."""
