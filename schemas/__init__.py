"""pydantic models: the project definition, input kinds, records passed between stages, settings."""
