"""The test environment and what fixtures hand out."""
