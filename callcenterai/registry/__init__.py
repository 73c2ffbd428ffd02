"""The model registry: register, promote through staging to production, roll back.

``loading`` is the one road from a ``models:/`` URI (or a folder) to a loaded
model, ``store`` reads a registered model, ``registration`` adds versions,
``promotion`` moves them (``Registry``), ``rescoring`` re-scores two versions
for the gate and ``artifacts`` knows where a logged model keeps its served
folder. Nothing is imported here, so a module that needs one of them imports
(and depends on) that one alone; no pipeline stage imports any of them.
"""
