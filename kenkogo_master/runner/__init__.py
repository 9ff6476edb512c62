"""The runner agent: hosts apps on its machine for a Master it dials on /runner."""
