"""Tables, the async engine and keyword-only repository functions."""
