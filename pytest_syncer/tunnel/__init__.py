"""A websocket reverse tunnel from each sync target to the hub."""
