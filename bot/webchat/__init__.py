"""The local web chat: one static page, its JSON endpoints and its inbox."""
