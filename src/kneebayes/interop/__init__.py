"""Exchange with other tools (pgmpy, BIF, XMLBIF); each imports its library lazily."""
