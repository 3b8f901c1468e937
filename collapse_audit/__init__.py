"""collapse-audit: audit ML training corpora for model-collapse risk before the training job is spent."""

__version__ = "0.1.0"
