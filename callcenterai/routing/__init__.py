"""The routing policy: which tickets TF-IDF answers alone, which the transformer sees too,
which a person reviews. Fitted by the fit_routing stage, applied by the agent."""
