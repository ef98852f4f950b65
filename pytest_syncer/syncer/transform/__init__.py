"""What each sync target receives: pure object transforms."""
