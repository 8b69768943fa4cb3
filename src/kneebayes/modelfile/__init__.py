"""Reading and checking model files: file -> validated, immutable spec."""
