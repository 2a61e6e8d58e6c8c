"""The use cases and the JSON shapes they answer with."""
