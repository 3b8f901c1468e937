"""Reader tests: formats, discovery, hostile input, fingerprints, field access, remote storage."""
