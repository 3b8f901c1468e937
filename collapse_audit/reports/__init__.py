"""Renderers: each turns the finished result object (the JSON report, schema_version 1) into a format."""
