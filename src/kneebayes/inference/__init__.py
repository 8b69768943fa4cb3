"""Pure functions over a compiled network and encoded evidence."""
