"""HTTP fakes of the platforms the coach talks to, served on port 0."""
