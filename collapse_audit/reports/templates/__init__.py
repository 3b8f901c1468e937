"""The HTML report's page template and stylesheet, loaded as package data."""
