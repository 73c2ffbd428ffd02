"""The HTTP kit every CallCenterAI service is built from.

Settings from the environment, the request models, the error shape and the
mapping of domain errors onto it, the request middleware, the probes, the
base metrics, the API-key check, and ``build_app`` that puts them together.
Domain code never imports FastAPI or Starlette; only this package and the
service apps do.
"""
