"""Tables, the async engine and the keyword-only query functions, one module per concept."""
