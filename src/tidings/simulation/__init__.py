"""A synthetic population running through real workflows on a virtual clock."""
