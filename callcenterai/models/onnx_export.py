"""The fine-tuned model as the served ONNX graph: export, fuse, quantise to int8.

Dynamic int8 with per-channel weights; some parts can stay fp32 (``keep_fp32``:
head, ffn_output, embeddings, attention): on this model the feed-forward output
projections carry BERT's activation outliers, and quantising them flips close calls.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Sequence

from callcenterai.models.finetune import collate

log = logging.getLogger(__name__)


def export_onnx(model, folder: Path, sample_ids: Sequence[Sequence[int]], keep_fp32: Sequence[str]) -> dict:
    """Write ``folder/model.onnx``: exported, fused for ONNX Runtime, dynamic int8 (per-channel
    weights) except the parts named in ``keep_fp32`` (see ``ExportTransformerParams``)."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from callcenterai.models.transformer import MODEL_FILE

    folder = Path(folder)
    raw, fused = folder / "model.fp32.onnx", folder / "model.fused.onnx"
    model = model.to("cpu").eval()
    input_ids, mask = collate(list(sample_ids)[:2], "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            model,
            (input_ids, mask),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    logging.disable(logging.INFO)  # the fuser and the quantizer log a line per tensor
    try:
        fusion = _fuse(raw, fused, model.config)
        source = fused if fusion else raw
        excluded = fp32_nodes(source, keep_fp32)
        quantize_dynamic(
            str(source),
            str(folder / MODEL_FILE),
            weight_type=QuantType.QInt8,
            per_channel=True,  # per-tensor int8 weights cost accuracy on this model
            nodes_to_exclude=excluded,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(logging.NOTSET)
    for path in (raw, fused):
        path.unlink(missing_ok=True)
    return {
        "fused_operators": fusion,
        "quantization": "dynamic int8, per-channel weights",
        "kept_fp32": list(keep_fp32),
        "fp32_nodes": len(excluded),
    }


def fp32_nodes(path: Path, keep_fp32: Sequence[str]) -> list[str]:
    """Names of the graph nodes in the groups ``keep_fp32`` names."""
    import onnx

    def in_group(node, group: str) -> bool:
        text = " ".join([node.name, *node.output])
        if group == "head":
            return any(mark in text for mark in ("pooler", "classifier", "logits"))
        if group == "ffn_output":  # BERT: layer.N.output.dense (not attention.output.dense)
            return node.op_type == "MatMul" and "/output/dense" in text and "attention" not in text
        if group == "embeddings":
            return node.op_type == "EmbedLayerNormalization" or "/embeddings/" in text
        if group == "attention":  # the fused self-attention (Q, K, V) and its output projection
            return node.op_type == "Attention" or (node.op_type == "MatMul" and "/attention/" in text)
        raise ValueError(f"unknown fp32 group {group!r}")

    graph = onnx.load(str(path), load_external_data=False).graph
    return [node.name for node in graph.node if any(in_group(node, g) for g in keep_fp32)]


def _fuse(source: Path, dest: Path, config) -> dict:
    """ONNX Runtime's transformer fusions (attention, GELU, layer norm); {} if none apply."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(source),
            model_type="bert",
            num_heads=getattr(config, "num_attention_heads", 0) or getattr(config, "n_heads", 0),
            hidden_size=getattr(config, "hidden_size", 0) or getattr(config, "dim", 0),
        )
        stats = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        if not stats:
            return {}
        optimized.save_model_to_file(str(dest))
        return stats
    except Exception as exc:  # an architecture the fuser does not know: serve the unfused graph
        log.warning("graph fusion skipped (%s); exporting the unfused graph", exc)
        return {}
