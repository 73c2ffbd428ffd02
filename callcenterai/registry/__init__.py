"""The model registry: register, promote through staging to production, roll back.

``store`` reads a registered model, ``registration`` adds versions,
``promotion`` moves them (``Registry``), ``rescoring`` re-scores two versions
for the gate and ``artifacts`` knows where a logged model keeps its served
folder. Nothing is imported here, so a pipeline stage that only reads the
store does not import (or depend on) promotion.
"""
