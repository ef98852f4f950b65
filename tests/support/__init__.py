"""What several test modules need alike: tokens from kubeconfigs, the metadata fields the API
server owns, strategies shared by property tests. Written from the formats and contracts, not
from the code under test."""
