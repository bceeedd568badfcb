"""Fluent message files (en.ftl, fr.ftl); kept with the same keys by a test."""
