"""A second function for the template: it proves the template serves any function with the same shape."""
