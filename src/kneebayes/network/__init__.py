"""From a validated spec to numbers: tables and the compiled network."""
