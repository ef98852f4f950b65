"""Conflict strategies for objects that differ below."""
