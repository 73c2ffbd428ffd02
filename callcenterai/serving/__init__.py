"""What every CallCenterAI service shares: settings, schemas, the model holder, metrics, auth.

``create_app`` builds a classifier service (tfidf_svc, transformer_svc) from
settings; the agent and the web interface reuse the schemas, metrics and auth.
"""
