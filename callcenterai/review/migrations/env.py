"""Alembic's environment for the review store; run through callcenterai.review.store.migrate."""

from alembic import context

from callcenterai.review.schema import Base

config = context.config
connection = config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
