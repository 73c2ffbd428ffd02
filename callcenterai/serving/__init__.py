"""The classifier runtime: the model holder, scoring, the prediction contract, and the app.

``create_app`` builds a classifier service (tfidf_svc, transformer_svc) from
settings, on the HTTP kit (``callcenterai.httpkit``) that every service shares.
"""
